// The local backend's output: order, readers, and bounded memory.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { RunLogChunk } from '../../src/backends/types.js';
import { output, pidAlive, req, setup, type Ctx } from './local-helpers.js';

/** Adjacent chunks of one stream joined: what the reader saw, in order. */
function runsOf(chunks: RunLogChunk[]): [string, string][] {
  const out: [string, string][] = [];
  for (const c of chunks) {
    const last = out[out.length - 1];
    if (last && last[0] === c.stream) last[1] += c.data.toString('utf8');
    else out.push([c.stream, c.data.toString('utf8')]);
  }
  return out;
}

describe('local backend: logs', () => {
  let ctx: Ctx;
  beforeEach(() => { ctx = setup(); });
  afterEach(() => ctx.cleanup());

  it('merges stdout and stderr in arrival order and keeps a last line without newline', async () => {
    // The child waits for files the test makes on seeing each line, so the order is not luck.
    const script = 'echo out1; until [ -e go1 ]; do sleep 0.01; done; echo err1 >&2; ' +
      'until [ -e go2 ]; do sleep 0.01; done; printf "out2\\nlast"';
    await ctx.backend.start(req('ord', ['sh', '-c', script]));
    const chunks: RunLogChunk[] = [];
    for await (const c of ctx.backend.logs('ord', { follow: true })) {
      chunks.push(c);
      const text = c.data.toString();
      if (text.includes('out1')) writeFileSync(join(ctx.workDir('ord'), 'go1'), '');
      if (text.includes('err1')) writeFileSync(join(ctx.workDir('ord'), 'go2'), '');
    }
    assert.deepEqual(runsOf(chunks), [['stdout', 'out1\n'], ['stderr', 'err1\n'], ['stdout', 'out2\nlast']]);
    assert.deepEqual(await ctx.rec.ended('ord'), { kind: 'exited', code: 0 });
    for (let i = 1; i < chunks.length; i++) assert.ok(chunks[i]!.time >= chunks[i - 1]!.time);
  });

  it('keeps output written before the reader attaches, ends follow after the run ended', async () => {
    await ctx.backend.start(req('early', ['sh', '-c', 'echo a; echo b >&2']));
    await ctx.rec.ended('early'); // all output is queued by the time `ended` goes out
    const { stdout, stderr } = await output(ctx.backend, 'early');
    assert.equal(stdout, 'a\n');
    assert.equal(stderr, 'b\n');
  });

  it('without follow returns what is buffered and ends', async () => {
    await ctx.backend.start(req('nf2', ['sh', '-c', 'echo two; sleep 100']));
    const it = ctx.backend.logs('nf2', { follow: true })[Symbol.asyncIterator]();
    const first = await it.next(); // proves 'two' has arrived
    assert.equal(first.done, false);
    await it.return?.();
    const rest: RunLogChunk[] = [];
    for await (const c of ctx.backend.logs('nf2', { follow: false })) rest.push(c);
    assert.deepEqual(rest, []); // consumed once: the first reader took it, and the run is still going
    await ctx.backend.stop('nf2', 1000);
  });

  it('refuses a second concurrent reader', async () => {
    await ctx.backend.start(req('two', ['sh', '-c', 'echo x; sleep 100']));
    const a = ctx.backend.logs('two', { follow: true })[Symbol.asyncIterator]();
    await a.next();
    const b = ctx.backend.logs('two', { follow: true })[Symbol.asyncIterator]();
    await assert.rejects(b.next(), /already being read/);
    await ctx.backend.stop('two', 1000);
    assert.deepEqual(await a.next(), { done: true, value: undefined });
  });

  it('has no output for a run it does not know', async () => {
    for await (const _ of ctx.backend.logs('nope', { follow: true })) assert.fail('no chunks expected');
  });

  it('applies backpressure: 100 MB through a slow reader does not grow memory by 100 MB', async () => {
    // Collect garbage as we go, so RSS shows what is held rather than what V8 has yet to free.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    gc();
    const total = 100_000_000;
    const before = process.memoryUsage().rss;
    let peak = before;
    await ctx.backend.start(req('big', ['head', '-c', String(total), '/dev/zero']));
    let bytes = 0;
    let n = 0;
    for await (const c of ctx.backend.logs('big', { follow: true })) {
      bytes += c.data.length;
      if (++n % 4 === 0) {
        if (n % 64 === 0) gc();
        peak = Math.max(peak, process.memoryUsage().rss);
        await new Promise((r) => setTimeout(r, 1)); // slower than head can write
      }
    }
    assert.equal(bytes, total);
    assert.deepEqual(await ctx.rec.ended('big'), { kind: 'exited', code: 0 });
    const growth = peak - before;
    assert.ok(growth < 25_000_000, `rss grew by ${growth} bytes`);
  });

  it('ends a run whose leader is gone even if an escaped process holds its pipes', async () => {
    // setsid leaves the group, so the group kill misses it; the silent pipe is cut instead.
    // The leader waits until the escapee has left its group, so the group kill cannot catch it.
    const script = `setsid sh -c 'echo $$ > escaped; exec sleep 100' & until [ -s escaped ]; do sleep 0.01; done; cat escaped`;
    await ctx.backend.start(req('esc', ['sh', '-c', script]));
    let pid = 0;
    try {
      const [{ stdout }, exit] = await Promise.all([output(ctx.backend, 'esc'), ctx.rec.ended('esc')]);
      pid = Number(stdout.trim());
      assert.deepEqual(exit, { kind: 'exited', code: 0 });
      assert.ok(pidAlive(pid), 'the escapee outlived the run, so its pipe had to be cut');
    } finally {
      if (pid > 0 && pidAlive(pid)) process.kill(pid, 'SIGKILL');
    }
  });
});
