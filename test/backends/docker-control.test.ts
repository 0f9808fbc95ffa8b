// The docker backend: stopping with a grace period, removing, and starting twice.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { output, setup, type Ctx } from './docker-helpers.js';

/** Prints "ready" once its SIGTERM disposition is in place, then waits. */
const WAITER = 'echo ready; while true; do sleep 0.05; done';

async function untilReady(ctx: Ctx, runId: string): Promise<void> {
  for await (const c of ctx.backend.logs(runId, { follow: true })) if (c.data.toString().includes('ready')) return;
  throw new Error(`${runId} ended before it was ready`);
}

describe('docker backend: stop and remove', () => {
  let ctx: Ctx;
  before(async () => { ctx = await setup('control'); });
  after(() => ctx.cleanup());

  it('lets a task that handles SIGTERM end on its own, well within the grace', async () => {
    await ctx.backend.start(ctx.req('term', ['sh', '-c', `trap 'echo bye; exit 3' TERM; ${WAITER}`]));
    await untilReady(ctx, 'term');
    const t0 = Date.now();
    await ctx.backend.stop('term', 20_000);
    assert.deepEqual(await ctx.rec.ended('term'), { kind: 'exited', code: 3 });
    assert.ok(Date.now() - t0 < 10_000, `took ${Date.now() - t0} ms`);
    assert.equal((await output(ctx.backend, 'term')).stdout.toString(), 'ready\nbye\n');
    await ctx.backend.stop('term', 1000); // idempotent on a stopped run
  });

  it('kills a task that ignores SIGTERM once the grace is over', async () => {
    await ctx.backend.start(ctx.req('ignore', ['sh', '-c', `trap '' TERM; ${WAITER}`]));
    await untilReady(ctx, 'ignore');
    const t0 = Date.now();
    await ctx.backend.stop('ignore', 1000);
    assert.deepEqual(await ctx.rec.ended('ignore'), { kind: 'exited', code: 137 }); // SIGKILL: 128 + 9
    assert.ok(Date.now() - t0 >= 1000, `killed after ${Date.now() - t0} ms, before the grace`);
  });

  it('rounds a grace below a second up, so the task still gets its SIGTERM', async () => {
    await ctx.backend.start(ctx.req('short', ['sh', '-c', `trap 'exit 4' TERM; ${WAITER}`]));
    await untilReady(ctx, 'short');
    await ctx.backend.stop('short', 1);
    assert.deepEqual(await ctx.rec.ended('short'), { kind: 'exited', code: 4 });
  });

  it('stops and removes runs it does not know without complaint', async () => {
    await ctx.backend.stop('never-started', 0);
    await ctx.backend.remove('never-started');
  });

  it('removes a running run: it ends, and nothing of it is left', async () => {
    await ctx.backend.start(ctx.req('rm', ['sh', '-c', WAITER], { inputs: [] }));
    await ctx.rec.running('rm');
    await ctx.backend.remove('rm');
    // Killed by the removal (137), or, when the engine was quicker than its events, just removed.
    const exit = await ctx.rec.ended('rm');
    assert.ok(exit.kind === 'exited' ? exit.code === 137 : exit.kind === 'error', JSON.stringify(exit));
    assert.deepEqual((await ctx.containers()).filter((c) => c.Names.includes('/wharf-rm')), []);
    assert.equal(await ctx.backend.inspect('rm'), undefined);
  });

  it('does not duplicate a run started twice: the second start takes the existing container', async () => {
    await ctx.backend.start(ctx.req('twice', ['sh', '-c', 'exit 6']));
    assert.deepEqual(await ctx.rec.ended('twice'), { kind: 'exited', code: 6 });
    const other = ctx.other();
    await other.backend.start(ctx.req('twice', ['sh', '-c', 'exit 6']));
    assert.deepEqual(await other.rec.ended('twice'), { kind: 'exited', code: 6 });
    assert.equal((await ctx.containers()).filter((c) => c.Names.includes('/wharf-twice')).length, 1);
  });

  it('does not start a run stopped while it was being started', async () => {
    const starting = ctx.backend.start(ctx.req('early', ['sh', '-c', WAITER]));
    const stopping = ctx.backend.stop('early', 0);
    await Promise.all([starting, stopping]);
    const exit = await ctx.rec.ended('early');
    assert.deepEqual(exit, { kind: 'start_failed', reason: 'stopped before it started' });
    assert.deepEqual(ctx.rec.of('early').map((e) => e.state.phase), ['ended']);
  });
});
