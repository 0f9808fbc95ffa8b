// The local backend's stop/remove/listOwned, for its own runs and for runs it finds on disk.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { groupPids } from '../../src/backends/local/proc.js';
import { LABELS } from '../../src/backends/types.js';
import { pidAlive, req, setup, waitUntil, type Ctx } from './local-helpers.js';

function pidOf(ctx: Ctx, runId: string): number {
  const rf = JSON.parse(readFileSync(join(ctx.dir, 'runs', runId, 'run.json'), 'utf8')) as { pid: number };
  return rf.pid;
}

function comm(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

describe('local backend: stop, remove, listOwned', () => {
  let ctx: Ctx;
  beforeEach(() => { ctx = setup(); });
  afterEach(() => ctx.cleanup());

  it('stop() takes down the whole process group within a second', async () => {
    await ctx.backend.start(req('grp', ['sh', '-c', 'sleep 100 & sleep 100']));
    const leader = pidOf(ctx, 'grp');
    await waitUntil(() => groupPids(leader).filter((p) => comm(p) === 'sleep').length === 2, 5000, 'both sleeps');
    const pids = groupPids(leader);
    const t0 = Date.now();
    await ctx.backend.stop('grp', 10_000);
    const exit = await ctx.rec.ended('grp');
    assert.equal(exit.kind, 'signaled');
    await waitUntil(() => pids.every((p) => !pidAlive(p)), 1000, 'the group to die');
    assert.ok(Date.now() - t0 < 1000);
    await ctx.backend.stop('grp', 10); // idempotent, and harmless once ended
    assert.equal((await ctx.backend.inspect('grp'))?.phase, 'ended');
  });

  it('stop() escalates to SIGKILL after the grace period', async () => {
    // An ignored SIGTERM is inherited through exec, so both sh and sleep shrug it off.
    await ctx.backend.start(req('stub', ['sh', '-c', 'trap "" TERM; echo ready; sleep 100']));
    for await (const c of ctx.backend.logs('stub', { follow: true })) if (c.data.toString().includes('ready')) break;
    await ctx.backend.stop('stub', 100);
    await ctx.backend.stop('stub', 5000); // a later, longer grace does not postpone the kill
    assert.deepEqual(await ctx.rec.ended('stub'), { kind: 'signaled', signal: 9, signalName: 'SIGKILL' });
  });

  it('remove() kills a running run, deletes its dir, and is idempotent', async () => {
    await ctx.backend.start(req('rm', ['sleep', '100']));
    const pid = pidOf(ctx, 'rm');
    await ctx.backend.remove('rm');
    assert.equal(existsSync(join(ctx.dir, 'runs', 'rm')), false);
    assert.equal(pidAlive(pid), false);
    assert.deepEqual(await ctx.rec.ended('rm'), { kind: 'signaled', signal: 9, signalName: 'SIGKILL' });
    assert.equal(await ctx.backend.inspect('rm'), undefined);
    await ctx.backend.remove('rm');
    await ctx.backend.remove('never-was');
  });

  it('remove() deletes what the task left in its working directory', async () => {
    await ctx.backend.start(req('messy', ['sh', '-c', 'mkdir -p a/b && echo x > a/b/f && echo y > top']));
    for await (const _ of ctx.backend.logs('messy', { follow: true })) { /* drain */ }
    assert.deepEqual(await ctx.rec.ended('messy'), { kind: 'exited', code: 0 });
    assert.equal(existsSync(join(ctx.dir, 'runs', 'messy', 'work', 'a', 'b', 'f')), true);
    await ctx.backend.remove('messy');
    assert.equal(existsSync(join(ctx.dir, 'runs', 'messy')), false);
  });

  it('listOwned() finds runs by every label of the selector', async () => {
    const labels = (job: string, task: string) => ({ [LABELS.instance]: 'i1', [LABELS.job]: job, [LABELS.task]: task });
    await ctx.backend.start(req('a', ['true'], { labels: labels('j1', 'build') }));
    await ctx.backend.start(req('b', ['sleep', '100'], { labels: labels('j1', 'test') }));
    await ctx.backend.start(req('c', ['true'], { labels: labels('j2', 'build') }));
    await ctx.rec.ended('a');
    const j1 = await ctx.backend.listOwned({ [LABELS.instance]: 'i1', [LABELS.job]: 'j1' });
    assert.deepEqual(j1.map((r) => r.runId).sort(), ['a', 'b']);
    const b = j1.find((r) => r.runId === 'b');
    assert.equal(b?.state.phase, 'running');
    assert.deepEqual(b?.labels, labels('j1', 'test'));
    assert.equal(j1.find((r) => r.runId === 'a')?.state.phase, 'ended');
    assert.deepEqual(await ctx.backend.listOwned({ [LABELS.job]: 'j3' }), []);
    assert.equal((await ctx.backend.listOwned({})).length, 3);
  });

  it("stops and removes another instance's run found on disk", async () => {
    const other = ctx.other('earlier-worker');
    const labels = { [LABELS.instance]: 'shared' };
    await other.backend.start(req('f1', ['sleep', '100'], { labels }));
    await other.backend.start(req('f2', ['sleep', '100'], { labels }));
    const found = await ctx.backend.listOwned(labels);
    assert.deepEqual(found.map((r) => [r.runId, r.state.phase]).sort(), [['f1', 'running'], ['f2', 'running']]);
    assert.equal((await ctx.backend.inspect('f1'))?.phase, 'running');

    await ctx.backend.stop('f1', 5000);
    assert.deepEqual(await other.rec.ended('f1'), { kind: 'signaled', signal: 15, signalName: 'SIGTERM' });
    const after = await ctx.backend.inspect('f1');
    assert.deepEqual(after?.phase === 'ended' && after.exit, { kind: 'error', reason: 'worker lost' });

    await ctx.backend.remove('f2');
    assert.deepEqual(await other.rec.ended('f2'), { kind: 'signaled', signal: 9, signalName: 'SIGKILL' });
    assert.equal(existsSync(join(ctx.dir, 'runs', 'f2')), false);
    await ctx.backend.remove('f1');
    assert.deepEqual((await ctx.backend.listOwned(labels)).map((r) => r.runId), []);
  });

  it('reports a foreign run whose pid now belongs to another process as lost, and leaves that process be', async () => {
    // Our own pid with a start time that is not ours: a reused pid.
    const dir = join(ctx.dir, 'runs', 'old');
    mkdirSync(dir, { recursive: true });
    const record = { runId: 'old', labels: { k: 'v' }, owner: 'gone', pid: process.pid, startTime: '1', startedAt: 1 };
    writeFileSync(join(dir, 'run.json'), JSON.stringify(record));
    const [run] = await ctx.backend.listOwned({ k: 'v' });
    assert.equal(run?.runId, 'old');
    assert.deepEqual(run?.state.phase === 'ended' && run.state.exit, { kind: 'error', reason: 'worker lost' });
    await ctx.backend.stop('old', 0);
    await ctx.backend.remove('old');
    assert.equal(existsSync(dir), false);
    for await (const _ of ctx.backend.logs('old', { follow: true })) assert.fail('no output for a foreign run');
  });
});
