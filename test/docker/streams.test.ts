// The engine's streamed body formats: multiplexed frames and JSON lines, split anywhere.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EngineError, EngineProtocolError } from '../../src/docker/errors.js';
import { demux, jsonLines, type DemuxFrame } from '../../src/docker/streams.js';

function frame(type: number, data: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h[0] = type;
  h.writeUInt32BE(data.length, 4);
  return Buffer.concat([h, data]);
}

async function* chunks(bufs: Buffer[]): AsyncGenerator<Buffer> {
  for (const b of bufs) yield b;
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('demux', () => {
  const payloads: [number, Buffer][] = [
    [1, Buffer.from('hello\n')],
    [2, Buffer.from([0xff, 0xfe, 0x00, 0x0a])],
    [1, Buffer.alloc(0)],
    [2, Buffer.from('e')],
  ];
  const wire = Buffer.concat(payloads.map(([t, d]) => frame(t, d)));
  // Empty frames carry nothing: they are skipped.
  const expected: DemuxFrame[] = payloads.filter(([, d]) => d.length > 0).map(([t, d]) => ({ stream: t === 1 ? 'stdout' : 'stderr', data: d }));

  it('gives the frames whole when the wire is split at every pair of byte boundaries', async () => {
    for (let a = 1; a < wire.length; a++) {
      for (let b = a; b < wire.length; b++) {
        const got = await collect(demux(chunks([wire.subarray(0, a), wire.subarray(a, b), wire.subarray(b)])));
        assert.deepEqual(got, expected, `cut at ${a} and ${b}`);
      }
    }
  });

  it('joins a large frame that comes in many chunks', async () => {
    const big = Buffer.alloc(70_000, 0x61);
    big[69_999] = 0x0a;
    const w = frame(1, big);
    const parts: Buffer[] = [];
    for (let i = 0; i < w.length; i += 997) parts.push(w.subarray(i, i + 997));
    assert.deepEqual(await collect(demux(chunks(parts))), [{ stream: 'stdout', data: big }]);
  });

  it('gives the frames whole when every byte comes alone', async () => {
    const small = Buffer.concat([frame(1, Buffer.from('ab')), frame(2, Buffer.from('c'))]);
    const got = await collect(demux(chunks([...small].map((b) => Buffer.from([b])))));
    assert.deepEqual(got, [{ stream: 'stdout', data: Buffer.from('ab') }, { stream: 'stderr', data: Buffer.from('c') }]);
  });

  it('rejects a stream that ends inside a frame', async () => {
    await assert.rejects(collect(demux(chunks([wire.subarray(0, 10)]))), EngineProtocolError);
  });

  it('rejects a body that is not multiplexed (a TTY stream)', async () => {
    await assert.rejects(collect(demux(chunks([Buffer.from('plain text output\n')]))), /not a multiplexed stream/);
  });

  it('turns a type-3 frame into the engine\'s error', async () => {
    await assert.rejects(collect(demux(chunks([frame(1, Buffer.from('x')), frame(3, Buffer.from('boom\n'))]))),
      (e: unknown) => e instanceof EngineError && e.message === 'boom');
  });
});

describe('jsonLines', () => {
  it('parses objects split across chunks, with \\r\\n and a last line without newline', async () => {
    const text = '{"status":"Pulling"}\r\n\n{"status":"Done","n":1}\n{"a":"ü"}';
    const bytes = Buffer.from(text);
    for (let cut = 1; cut < bytes.length; cut++) {
      const got = await collect(jsonLines(chunks([bytes.subarray(0, cut), bytes.subarray(cut)])));
      assert.deepEqual(got, [{ status: 'Pulling' }, { status: 'Done', n: 1 }, { a: 'ü' }], `cut at ${cut}`);
    }
  });

  it('turns an errorDetail into an EngineError with its message', async () => {
    const body = '{"status":"Pulling"}\n{"errorDetail":{"message":"manifest unknown"},"error":"manifest unknown"}\n';
    const seen: unknown[] = [];
    await assert.rejects(async () => { for await (const x of jsonLines(chunks([Buffer.from(body)]))) seen.push(x); },
      (e: unknown) => e instanceof EngineError && e.message === 'manifest unknown' && e.status === 200);
    assert.deepEqual(seen, [{ status: 'Pulling' }]);
  });

  it('turns a bare error string into an EngineError', async () => {
    await assert.rejects(collect(jsonLines(chunks([Buffer.from('{"error":"pull access denied for x"}\n')]))),
      (e: unknown) => e instanceof EngineError && e.message === 'pull access denied for x');
  });

  it('rejects a line that is not JSON instead of dropping it', async () => {
    await assert.rejects(collect(jsonLines(chunks([Buffer.from('{"ok":1}\nnot json\n{"ok":2}\n')]))),
      (e: unknown) => e instanceof EngineProtocolError && e.message.includes('not json'));
  });
});
