// The log sink with an attempt's secrets: output masked per stream however it was split, Wharf's
// own lines masked whole, the cap counting the bytes the task wrote.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redactor } from '../../src/core/redact.js';
import type { NewLogChunk } from '../../src/store/types.js';
import { LogSink } from '../../src/worker/log-sink.js';

const SECRET = 'hunter2-secret';

function sink(capBytes?: number): { s: LogSink; stored: NewLogChunk[] } {
  const stored: NewLogChunk[] = [];
  const s = new LogSink({
    capBytes, flushMs: 1, now: () => 42,
    write: async (chunks) => {
      stored.push(...chunks.map((c) => ({ ...c })));
      return { ok: true, value: undefined };
    },
  });
  s.redact(new Redactor([SECRET]));
  return { s, stored };
}

const chunk = (stream: 'stdout' | 'stderr', data: string) => ({ stream, time: 1, data: Buffer.from(data) });
const text = (stored: NewLogChunk[], stream: string): string => stored.filter((c) => c.stream === stream).map((c) => c.text).join('');

describe('log sink with secrets', () => {
  it('masks a value split byte by byte, per stream, and keeps the rest exact', async () => {
    const { s, stored } = sink();
    const out = `token=${SECRET}\nb64=${Buffer.from(SECRET).toString('base64')}\ntail ${SECRET.slice(0, 6)}`;
    for (const b of Buffer.from(out)) await s.write(chunk('stdout', String.fromCharCode(b)));
    await s.write(chunk('stderr', `err ${SECRET.slice(0, 7)}`));
    await s.write(chunk('stdout', '')); // nothing: the stderr half must not join stdout's
    await s.write(chunk('stderr', `${SECRET.slice(7)} end\n`));
    await s.close();
    assert.equal(text(stored, 'stdout'), `token=***\nb64=***\ntail ${SECRET.slice(0, 6)}`);
    assert.equal(text(stored, 'stderr'), 'err *** end\n');
    assert.ok(!JSON.stringify(stored).includes(SECRET));
    // The bytes stand for what the task wrote.
    assert.equal(stored.reduce((n, c) => n + c.bytes, 0), Buffer.byteLength(out) + Buffer.byteLength(`err ${SECRET} end\n`));
  });

  it('masks Wharf\'s own lines', async () => {
    const { s, stored } = sink();
    s.system(`[wharf] could not start: command not found: /x/${SECRET}`);
    await s.close();
    assert.deepEqual(stored.map((c) => c.text), ['[wharf] could not start: command not found: /x/***\n']);
  });

  it('counts the cap in the output\'s bytes, and lets out what it held back before the marker', async () => {
    const { s, stored } = sink(10);
    await s.write(chunk('stdout', 'ok hunter2'));
    await s.write(chunk('stdout', '-secret and more'));
    await s.close();
    // 10 bytes taken: "ok hunter2" — a fragment, not the value, so it is not masked.
    assert.deepEqual(stored.map((c) => [c.stream, c.text]), [
      ['stdout', 'ok hunter2'],
      ['system', '[wharf] log truncated: the 10 bytes cap was reached; later output is dropped\n'],
      ['system', '[wharf] 16 bytes of output were dropped\n'],
    ]);
    assert.equal(s.bytesStored, 10);
  });

  it('refuses secrets once output was taken', async () => {
    const stored: NewLogChunk[] = [];
    const s = new LogSink({ flushMs: 1, write: async (c) => { stored.push(...c); return { ok: true, value: undefined }; } });
    await s.write(chunk('stdout', 'x'));
    assert.throws(() => s.redact(new Redactor([SECRET])), /secrets must be set before the run starts/);
    await s.close();
  });
});
