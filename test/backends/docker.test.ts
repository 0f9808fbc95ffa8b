// The docker backend against the tests' dockerd: how runs start, end and are reported.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runToEnd, setup, type Ctx } from './docker-helpers.js';

describe('docker backend: runs', () => {
  let ctx: Ctx;
  before(async () => { ctx = await setup('runs'); });
  after(() => ctx.cleanup());

  it('runs with no capabilities at all, and reports running then ended', async () => {
    const r = await runToEnd(ctx, 'caps', ['grep', '^Cap[EP]', '/proc/self/status']);
    assert.deepEqual(r.exit, { kind: 'exited', code: 0 });
    assert.match(r.stdout, /^CapPrm:\t0000000000000000\nCapEff:\t0000000000000000\n$/);
    assert.deepEqual(ctx.rec.of('caps').map((e) => e.state.phase), ['running', 'ended']);
  });

  it('adds exactly the capabilities asked for', async () => {
    const r = await runToEnd(ctx, 'caps-add', ['grep', '^CapEff', '/proc/self/status'], { capabilities: ['NET_BIND_SERVICE'] });
    assert.equal(r.stdout, 'CapEff:\t0000000000000400\n'); // bit 10
  });

  it('keeps the exit code exact', async () => {
    assert.deepEqual((await runToEnd(ctx, 'exit5', ['sh', '-c', 'exit 5'])).exit, { kind: 'exited', code: 5 });
    assert.deepEqual((await runToEnd(ctx, 'exit127', ['sh', '-c', 'no-such-cmd'])).exit, { kind: 'exited', code: 127 });
    const s = await ctx.backend.inspect('exit5');
    assert.deepEqual(s?.phase === 'ended' && s.exit, { kind: 'exited', code: 5 });
  });

  it('reports the OOM killer with the memory limit', async () => {
    const limit = 16 * 1024 * 1024;
    const r = await runToEnd(ctx, 'oom', ['sh', '-c', 'x=a; while true; do x=$x$x; done'], { resources: { memoryBytes: limit } });
    assert.deepEqual(r.exit, { kind: 'oom_killed', memoryLimitBytes: limit });
  });

  it('reports a missing image as start_failed with the engine\'s reason', async () => {
    // Loopback only: no registry listens on port 9, so the pull fails at its first request.
    const r = await runToEnd(ctx, 'noimage', ['true'], { image: '127.0.0.1:9/wharf/none:1' });
    assert.equal(r.exit.kind, 'start_failed');
    assert.match(r.exit.kind === 'start_failed' ? r.exit.reason : '', /127\.0\.0\.1:9.*connection refused/);
    assert.deepEqual(await ctx.backend.inspect('noimage'), ctx.rec.of('noimage').at(-1)?.state);
  });

  it('reports a missing command as start_failed with the runtime\'s reason, once', async () => {
    const r = await runToEnd(ctx, 'nocmd', ['no-such-cmd', 'x']);
    assert.equal(r.exit.kind, 'start_failed');
    assert.match(r.exit.kind === 'start_failed' ? r.exit.reason : '', /exec: "no-such-cmd": executable file not found in \$PATH/);
    assert.deepEqual(ctx.rec.of('nocmd').map((e) => e.state.phase), ['ended']);
    // Another instance reading the container sees the same failure.
    const other = ctx.other();
    const s = await other.backend.inspect('nocmd');
    assert.equal(s?.phase === 'ended' && s.exit.kind, 'start_failed');
  });

  it('has a read-only rootfs with a writable /tmp, unless asked for a writable one', async () => {
    const ro = await runToEnd(ctx, 'ro', ['sh', '-c', 'echo x > /tmp/ok && cat /tmp/ok; echo y > /nope']);
    assert.equal(ro.stdout, 'x\n');
    assert.match(ro.stderr, /can't create \/nope: Read-only file system/);
    assert.deepEqual(ro.exit, { kind: 'exited', code: 1 });
    const rw = await runToEnd(ctx, 'rw', ['sh', '-c', 'echo y > /yes && cat /yes'], { writableRootfs: true });
    assert.deepEqual([rw.exit, rw.stdout], [{ kind: 'exited', code: 0 }, 'y\n']);
  });

  it('has only loopback without a network, and the user, env and working dir asked for', async () => {
    const r = await runToEnd(ctx, 'net', ['sh', '-c', 'tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " "; id -u; pwd; echo "$FOO|$EMPTY|$WHARF_X"'],
      { user: 'nobody', workingDir: '/tmp' }, { FOO: 'bär ✓ "q"', EMPTY: '', WHARF_X: 'w' });
    assert.equal(r.stdout, 'lo\n65534\n/tmp\nbär ✓ "q"||w\n');
  });

  it('lists what it owns by label, and remove leaves nothing', async () => {
    const owned = await ctx.backend.listOwned({ 'wharf.dev/attempt-id': 'exit5' });
    assert.deepEqual(owned.map((o) => [o.runId, o.state.phase, o.labels['wharf.dev/attempt-id']]), [['exit5', 'ended', 'exit5']]);
    assert.equal(owned[0]?.state.phase === 'ended' && owned[0].state.exit.kind === 'exited' && owned[0].state.exit.code, 5);
    assert.equal(Object.keys(owned[0]?.labels ?? {}).some((k) => k === 'wharf.dev/run-id'), false);
    for (const o of await ctx.backend.listOwned({})) await ctx.backend.remove(o.runId);
    await ctx.backend.remove('exit5'); // idempotent
    assert.deepEqual(await ctx.containers(), []);
    assert.deepEqual(await ctx.backend.listOwned({}), []);
    assert.equal(await ctx.backend.inspect('exit5'), undefined);
  });
});
