import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LogSink, LeaseLostError } from '../../src/worker/log-sink.js';
import type { NewLogChunk } from '../../src/store/types.js';

function sink(capBytes?: number, refuse = false): { s: LogSink; stored: NewLogChunk[] } {
  const stored: NewLogChunk[] = [];
  const s = new LogSink({
    capBytes, flushMs: 1, now: () => 42,
    write: async (chunks) => {
      if (refuse) return { ok: false, reason: 'lease_lost' };
      stored.push(...chunks.map((c) => ({ ...c })));
      return { ok: true, value: undefined };
    },
  });
  return { s, stored };
}

const chunk = (stream: 'stdout' | 'stderr', data: Buffer | string) => ({ stream, time: 1, data: Buffer.from(data) });

test('a UTF-8 character split across chunks arrives whole; the last line keeps no newline', async () => {
  const { s, stored } = sink();
  const bytes = Buffer.from('héllo 🌍\nlast');
  for (let i = 0; i < bytes.length; i++) await s.write(chunk('stdout', bytes.subarray(i, i + 1)));
  await s.close();
  assert.equal(stored.map((c) => c.text).join(''), 'héllo 🌍\nlast');
  assert.equal(stored.reduce((n, c) => n + c.bytes, 0), bytes.length);
});

test('streams keep their order and tags', async () => {
  const { s, stored } = sink();
  await s.write(chunk('stdout', 'a\n'));
  await s.write(chunk('stderr', 'b\n'));
  await s.write(chunk('stdout', 'c\n'));
  await s.close();
  assert.deepEqual(stored.map((c) => [c.stream, c.text]), [['stdout', 'a\n'], ['stderr', 'b\n'], ['stdout', 'c\n']]);
});

test('the cap truncates with one marker, even when it falls on a chunk boundary', async () => {
  for (const size of [4, 5]) {
    const { s, stored } = sink(8);
    for (let i = 0; i < 4; i++) await s.write(chunk('stdout', 'x'.repeat(size)));
    await s.close();
    const text = stored.filter((c) => c.stream === 'stdout').map((c) => c.text).join('');
    assert.equal(text, 'x'.repeat(8));
    const system = stored.filter((c) => c.stream === 'system');
    assert.equal(system.filter((c) => c.truncated).length, 1, `size ${size}`);
    assert.match(system[0]?.text ?? '', /log truncated: the 8 bytes cap was reached/);
    assert.equal(system[1]?.text, `[wharf] ${size * 4 - 8} bytes of output were dropped\n`);
    assert.equal(s.bytesStored, 8);
  }
});

test('a cap inside a multi-byte character never emits half of it', async () => {
  const { s, stored } = sink(2);
  await s.write(chunk('stdout', 'a🌍'));
  await s.close();
  assert.equal(stored.filter((c) => c.stream === 'stdout').map((c) => c.text).join(''), 'a');
});

test('a refused write (lease lost) surfaces as LeaseLostError', async () => {
  const { s } = sink(undefined, true);
  await s.write(chunk('stdout', 'x'));
  await assert.rejects(s.close(), LeaseLostError);
});
