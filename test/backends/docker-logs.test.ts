// The docker backend's logs: streams kept apart, bytes exact, and resuming from any cursor.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunLogChunk } from '../../src/backends/types.js';
import { output, setup, type Ctx } from './docker-helpers.js';

describe('docker backend: logs', () => {
  let ctx: Ctx;
  before(async () => { ctx = await setup('logs'); });
  after(() => ctx.cleanup());

  it('keeps stdout and stderr apart, byte for byte, binary included', async () => {
    await ctx.backend.start(ctx.req('bin', ['sh', '-c', 'printf "\\377\\376\\000a\\r\\n"; printf "err 1\\n" >&2; printf "no newline"; printf "ü\\n" >&2']));
    const [out, exit] = await Promise.all([output(ctx.backend, 'bin'), ctx.rec.ended('bin')]);
    assert.deepEqual(exit, { kind: 'exited', code: 0 });
    assert.deepEqual(out.stdout, Buffer.concat([Buffer.from([0xff, 0xfe, 0x00, 0x61, 0x0d, 0x0a]), Buffer.from('no newline')]));
    assert.equal(out.stderr.toString(), 'err 1\nü\n');
    for (const c of out.chunks) {
      assert.match(c.cursor ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z(#\d+)?$/);
      assert.ok(Math.abs(c.time - Date.now()) < 60_000);
    }
  });

  it('gives a 100 KiB line whole, with its newline, though Docker splits it at 16 KiB', async () => {
    const script = 'head -c 102400 /dev/zero | tr "\\0" a; echo; echo after; head -c 32768 /dev/zero | tr "\\0" b; echo';
    await ctx.backend.start(ctx.req('long', ['sh', '-c', script]));
    const [out] = await Promise.all([output(ctx.backend, 'long'), ctx.rec.ended('long')]);
    assert.equal(out.stdout.toString(), `${'a'.repeat(102400)}\nafter\n${'b'.repeat(32768)}\n`);
    assert.ok(out.chunks.length > 7, 'came as several entries');
    // Every cursor resumes exactly, even in the middle of the split line.
    const full = out.stdout.toString();
    for (const [i, c] of out.chunks.entries()) {
      const rest = await output(ctx.backend, 'long', c.cursor);
      const before = Buffer.concat(out.chunks.slice(0, i + 1).map((x) => x.data)).toString();
      assert.equal(before + rest.stdout.toString(), full, `resumed after chunk ${i} (${c.cursor})`);
    }
  });

  it('resumes a followed stream after a cursor with no duplicates and no gaps, while the run goes on', async () => {
    const n = 30;
    // Lines come in bursts (several per timestamp second) and across several seconds.
    const script = `i=0; while [ $i -lt ${n} ]; do echo "line $i"; echo "err $i" >&2; i=$((i+1)); [ $((i % 10)) -eq 0 ] && sleep 0.4; done`;
    await ctx.backend.start(ctx.req('resume', ['sh', '-c', script]));
    const first: RunLogChunk[] = [];
    for await (const c of ctx.backend.logs('resume', { follow: true })) {
      first.push(c);
      if (first.length === 15) break; // the reader goes away mid-run, as a crashed worker would
    }
    const cursor = first.at(-1)?.cursor;
    assert.ok(cursor);
    const rest = await output(ctx.backend, 'resume', cursor);
    await ctx.rec.ended('resume');
    const all = [...first, ...rest.chunks];
    const text = (s: string): string => Buffer.concat(all.filter((c) => c.stream === s).map((c) => c.data)).toString();
    assert.equal(text('stdout'), Array.from({ length: n }, (_, i) => `line ${i}\n`).join(''));
    assert.equal(text('stderr'), Array.from({ length: n }, (_, i) => `err ${i}\n`).join(''));
    // And after the run's end, from the start: the same.
    const again = await output(ctx.backend, 'resume');
    assert.deepEqual(again.chunks.map((c) => c.cursor), all.map((c) => c.cursor));
  });

  it('waits for the start when followed right after start(), and has nothing for an unknown run', async () => {
    await ctx.backend.start(ctx.req('quick', ['echo', 'hi']));
    assert.equal((await output(ctx.backend, 'quick')).stdout.toString(), 'hi\n');
    assert.deepEqual((await output(ctx.backend, 'nobody-knows')).chunks, []);
  });

  it('refuses a cursor it did not make', async () => {
    await assert.rejects(output(ctx.backend, 'quick', 'not-a-cursor'), /invalid log cursor/);
  });
});
