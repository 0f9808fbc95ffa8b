// The kubernetes backend against the Kubernetes API simulator, whose kubelet runs every pod as a
// real container on the tests' dockerd: exits, logs, failures with their reasons, faults of the
// watch and of log streams, stop, deletion behind Wharf's back, adoption, cleanup.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MapCredentialStore, registryCredentials } from '../../src/builders/registry/index.js';
import { podName } from '../../src/backends/kubernetes/names.js';
import { LABELS, type RunEvent } from '../../src/backends/types.js';
import { NAMESPACE, output, runToEnd, setup, until, type KCtx } from './kubernetes-helpers.js';

const phases = (events: RunEvent[]): string[] => events.map((e) => e.state.phase).filter((p) => p !== 'starting');

describe('kubernetes backend: runs', () => {
  let ctx: KCtx;
  before(async () => { ctx = await setup('runs'); });
  after(() => ctx.cleanup());

  it('keeps the exit code exact and the output complete, in order', async () => {
    const r = await runToEnd(ctx, 'exit3', ['sh', '-c', 'for i in 1 2 3; do echo "line $i"; done; echo oops >&2; exit 3']);
    assert.deepEqual(r.exit, { kind: 'exited', code: 3 });
    // stdout in order; stderr merged in by the API, where the runtime's clock put it.
    assert.equal(r.text.replace('oops\n', ''), 'line 1\nline 2\nline 3\n');
    assert.equal(r.text.split('\n').filter((l) => l === 'oops').length, 1);
    assert.ok(r.chunks.every((c) => c.stream === 'stdout' && typeof c.cursor === 'string'));
    assert.deepEqual(phases(ctx.rec.of('exit3')), ['running', 'ended']);
    const s0 = await runToEnd(ctx, 'exit0', ['true']);
    assert.deepEqual(s0.exit, { kind: 'exited', code: 0 });
  });

  it('runs hardened: no capabilities, read-only root with a writable /tmp, $ passed through', async () => {
    // Kubernetes would expand $(Y) in command and env values (Y is defined) and turn $$ into $.
    const r = await runToEnd(ctx, 'hard', ['sh', '-c', 'grep ^CapEff /proc/self/status; echo x > /tmp/ok && cat /tmp/ok; echo y > /nope || printf "%s|%s\\n" \'$(Y) $$\' "$X"'], {}, { Y: 'yes', X: '$(Y) $$' });
    const lines = r.text.split('\n');
    assert.deepEqual(lines.filter((l) => !/Read-only file system/.test(l)), ['CapEff:\t0000000000000000', 'x', '$(Y) $$|$(Y) $$', '']);
    assert.ok(lines.some((l) => /can't create \/nope: Read-only file system/.test(l)), r.text);
    assert.deepEqual(r.exit, { kind: 'exited', code: 0 });
  });

  it('runs as the task\'s numeric user, non-root, and refuses a root image when non-root is required', async () => {
    const r = await runToEnd(ctx, 'nobody', ['sh', '-c', 'id -u; id -g'], { user: '65534:65534' });
    assert.equal(r.text, '65534\n65534\n');
    const strict = ctx.other({ requireNonRoot: true });
    const ended = strict.rec.ended('rootimg');
    await strict.backend.start(ctx.req('rootimg', ['true']));
    const exit = await ended;
    assert.equal(exit.kind, 'start_failed');
    assert.match(exit.kind === 'start_failed' ? exit.reason : '', /^CreateContainerConfigError: container has runAsNonRoot and image will run as root/);
    await strict.backend.remove('rootimg');
  });

  it('reports the OOM killer with the memory limit', async () => {
    const limit = 16 * 1024 * 1024;
    const r = await runToEnd(ctx, 'oom', ['sh', '-c', 'x=a; while true; do x=$x$x; done'], { resources: { memoryBytes: limit } });
    assert.deepEqual(r.exit, { kind: 'oom_killed', memoryLimitBytes: limit });
  });

  it('ends an image that cannot be pulled with the registry\'s message, verbatim', async () => {
    const message = 'rpc error: code = NotFound desc = failed to pull and unpack image "127.0.0.1:9/wharf/none:1": not found';
    ctx.sim.kubelet?.faults.failImagePull(/wharf\/none/, message);
    const r = await runToEnd(ctx, 'nopull', ['true'], { image: '127.0.0.1:9/wharf/none:1' });
    assert.deepEqual(r.exit, { kind: 'start_failed', reason: message });
    assert.equal(r.text, '');
    const starting = ctx.rec.of('nopull').filter((e) => e.state.phase === 'starting').map((e) => e.state.phase === 'starting' && e.state.message);
    assert.ok(starting.includes(`ErrImagePull: ${message}`), JSON.stringify(starting));
  });

  it('reports a command that cannot run as start_failed with the runtime\'s reason', async () => {
    const r = await runToEnd(ctx, 'nocmd', ['no-such-cmd', 'x']);
    assert.equal(r.exit.kind, 'start_failed');
    assert.match(r.exit.kind === 'start_failed' ? r.exit.reason : '', /no-such-cmd/);
  });

  it('shows the scheduler\'s message while pending, then ends start_failed after the pending timeout', async () => {
    const quick = ctx.other({ pendingTimeoutMs: 1500 });
    const ended = quick.rec.ended('huge');
    await quick.backend.start(ctx.req('huge', ['true'], { resources: { memoryBytes: 100 * 1024 ** 3 } }));
    const exit = await ended;
    const starting = quick.rec.of('huge').find((e) => e.state.phase === 'starting');
    const message = starting?.state.phase === 'starting' ? starting.state.message ?? '' : '';
    assert.match(message, /^0\/3 nodes are available: 3 Insufficient memory\./);
    assert.deepEqual(exit, { kind: 'start_failed', reason: message });
    await quick.backend.remove('huge');
  });

  it('stops with the grace period: a task that handles SIGTERM ends its own way', async () => {
    const ended = ctx.rec.ended('term');
    await ctx.backend.start(ctx.req('term', ['sh', '-c', 'trap "echo bye; exit 42" TERM; echo up; while true; do sleep 0.1; done']));
    const logs = output(ctx.backend, 'term');
    await ctx.rec.running('term');
    await ctx.backend.stop('term', 10_000);
    assert.deepEqual(await ended, { kind: 'exited', code: 42 });
    assert.equal((await logs).text, 'up\nbye\n');
    await ctx.backend.stop('term', 10_000); // idempotent
    await ctx.backend.remove('term');
  });

  it('stops a task that ignores SIGTERM by killing it after the grace period', async () => {
    const ended = ctx.rec.ended('stubborn');
    await ctx.backend.start(ctx.req('stubborn', ['sh', '-c', 'trap "" TERM; while true; do sleep 0.1; done']));
    await ctx.rec.running('stubborn');
    const t0 = Date.now();
    await ctx.backend.stop('stubborn', 1000);
    assert.deepEqual(await ended, { kind: 'exited', code: 137 });
    assert.ok(Date.now() - t0 >= 900, `killed after ${Date.now() - t0} ms`);
    await ctx.backend.remove('stubborn');
  });

  it('ends a run whose pod is deleted behind its back', async () => {
    const ended = ctx.rec.ended('victim');
    await ctx.backend.start(ctx.req('victim', ['sleep', '30']));
    await ctx.rec.running('victim');
    ctx.sim.faults.deletePod(NAMESPACE, podName('victim'));
    assert.deepEqual(await ended, { kind: 'error', reason: 'pod deleted by someone else' });
    await ctx.backend.remove('victim');
  });

  it('ends an evicted run with the kubelet\'s message', async () => {
    const ended = ctx.rec.ended('evicted');
    await ctx.backend.start(ctx.req('evicted', ['sleep', '30']));
    await ctx.rec.running('evicted');
    await ctx.sim.kubelet?.faults.evict(NAMESPACE, podName('evicted'));
    const exit = await ended;
    assert.equal(exit.kind, 'error');
    assert.match(exit.kind === 'error' ? exit.reason : '', /^evicted: The node was low on resource: /);
    await ctx.backend.remove('evicted');
  });

  it('ends a run the kubelet killed at activeDeadlineSeconds (no worker left to stop it) with its message', async () => {
    // Deadline = timeout 1 s + grace 1 s + margin 0: the backstop, without Wharf's own timer.
    const side = ctx.other({ deadlineMarginSeconds: 0, terminationGraceSeconds: 1 });
    const ended = side.rec.ended('overdue');
    await side.backend.start(ctx.req('overdue', ['sleep', '30'], { timeoutMs: 1_000 }));
    const exit = await ended;
    assert.deepEqual(exit, { kind: 'error', reason: 'deadline exceeded: Pod was active on the node longer than the specified deadline' });
    await side.backend.remove('overdue');
  });

  it('never makes a second pod for a start repeated after a crash', async () => {
    const other = ctx.other();
    const ended = other.rec.ended('twice');
    await ctx.backend.start(ctx.req('twice', ['sh', '-c', 'sleep 0.5; exit 4']));
    await other.backend.start(ctx.req('twice', ['sh', '-c', 'sleep 0.5; exit 4']));
    assert.equal(ctx.sim.pods(NAMESPACE).filter((p) => p.metadata?.name === podName('twice')).length, 1);
    assert.deepEqual(await ended, { kind: 'exited', code: 4 });
    await ctx.backend.remove('twice');
  });

  it('keeps an ended pod for the retention time after remove, then deletes it', async () => {
    const keeper = ctx.other({ retainMs: 1500 });
    const ended = keeper.rec.ended('kept');
    await keeper.backend.start(ctx.req('kept', ['sh', '-c', 'exit 2']));
    assert.deepEqual(await ended, { kind: 'exited', code: 2 });
    await keeper.backend.stop('kept', 0); // ended: nothing to stop, nothing deleted
    await keeper.backend.remove('kept');
    const name = podName('kept');
    assert.ok(ctx.sim.pods(NAMESPACE).some((p) => p.metadata?.name === name));
    const owned = await keeper.backend.listOwned({ [LABELS.attemptId]: 'kept' });
    assert.deepEqual(owned.map((r) => r.state.phase === 'ended' && r.state.exit), [{ kind: 'exited', code: 2 }]);
    await until('the kept pod gone', () => !ctx.sim.pods(NAMESPACE).some((p) => p.metadata?.name === name), 10_000);
  });

  it('uses an existing pull secret when told to', async () => {
    const side = ctx.other({ pullSecret: { existing: 'regcred' } });
    const ended = side.rec.ended('regcred');
    await side.backend.start(ctx.req('regcred', ['true']));
    const pod = ctx.sim.pods(NAMESPACE).find((p) => p.metadata?.name === podName('regcred'));
    assert.deepEqual(pod?.spec?.imagePullSecrets, [{ name: 'regcred' }]);
    assert.deepEqual(await ended, { kind: 'exited', code: 0 });
    await side.backend.remove('regcred');
  });

  it('costs the API server O(1) requests per run, and leaves nothing behind', async () => {
    ctx.sim.counts.reset();
    const r = await runToEnd(ctx, 'cost', ['sh', '-c', 'sleep 1; echo done']);
    assert.equal(r.text, 'done\n');
    const c = ctx.sim.counts.snapshot().requests;
    assert.equal(c['create pods'], 1);
    assert.equal(c['delete pods'], 1);
    assert.equal(c['get pods'] ?? 0, 0); // no poll per pod
    assert.ok((c['get pods/log'] ?? 0) <= 2, JSON.stringify(c));
    await until('every pod gone', () => ctx.sim.pods(NAMESPACE).length === 0);
    assert.deepEqual(await ctx.backend.listOwned({}), []);
  });
});

describe('kubernetes backend: faults of the API', () => {
  let ctx: KCtx;
  before(async () => { ctx = await setup('faults'); });
  after(() => ctx.cleanup());

  it('loses no transition when the watch drops and cannot come back for a while', async () => {
    const ended = ctx.rec.ended('drop');
    ctx.sim.faults.failNext({ verb: 'watch', resource: 'pods', status: 503, count: 4 });
    await ctx.backend.start(ctx.req('drop', ['sh', '-c', 'sleep 0.5; exit 7']));
    ctx.sim.faults.dropWatches();
    assert.deepEqual(await ended, { kind: 'exited', code: 7 });
    assert.deepEqual(phases(ctx.rec.of('drop')), ['running', 'ended']);
    assert.ok(ctx.reports.some((m) => /watching again/.test(m)), ctx.reports.join('\n'));
    await ctx.backend.remove('drop');
  });

  it('loses and repeats no transition when the watch expires (410) and the relist fails for a while', async () => {
    const ended = ctx.rec.ended('expire');
    await ctx.backend.start(ctx.req('expire', ['sh', '-c', 'sleep 0.5; exit 9']));
    await ctx.rec.running('expire');
    ctx.sim.faults.failNext({ verb: 'list', resource: 'pods', status: 500, count: 3 });
    ctx.sim.faults.expireWatches();
    assert.deepEqual(await ended, { kind: 'exited', code: 9 });
    assert.deepEqual(phases(ctx.rec.of('expire')), ['running', 'ended']);
    await ctx.backend.remove('expire');
  });

  it('loses and repeats no log line when the API server drops every connection', async () => {
    const n = 60;
    const ended = ctx.rec.ended('chatty');
    await ctx.backend.start(ctx.req('chatty', ['sh', '-c', `i=1; while [ $i -le ${n} ]; do echo "line $i"; i=$((i+1)); sleep 0.03; done`]));
    const chunks: string[] = [];
    let restarts = 0;
    const logsBefore = ctx.sim.counts.get('get pods/log');
    for await (const c of ctx.backend.logs('chatty', { follow: true })) {
      chunks.push(c.data.toString());
      if (chunks.length === 10 || chunks.length === 35) {
        ctx.sim.faults.restart();
        restarts++;
      }
    }
    assert.equal(restarts, 2);
    assert.ok(ctx.sim.counts.get('get pods/log') >= logsBefore + 3, 'the log was read again after each break');
    assert.equal(chunks.join(''), Array.from({ length: n }, (_, i) => `line ${i + 1}\n`).join(''));
    assert.deepEqual(await ended, { kind: 'exited', code: 0 });
    await ctx.backend.remove('chatty');
  });

  it('is taken over by a second backend of the same instance, its log resumed from a cursor', async () => {
    const first = ctx.other();
    await first.backend.start(ctx.req('adopt', ['sh', '-c', 'echo one; sleep 1.5; echo two; exit 5']));
    let cursor: string | undefined;
    for await (const c of first.backend.logs('adopt', { follow: true })) {
      assert.equal(c.data.toString(), 'one\n');
      cursor = c.cursor;
      break;
    }
    await first.backend.close(); // the worker is gone; its pod goes on

    const second = ctx.other();
    const runs = await second.backend.listOwned({ [LABELS.attemptId]: 'adopt' });
    assert.equal(runs.length, 1);
    assert.equal(runs[0]?.runId, 'adopt');
    assert.equal(runs[0]?.labels[LABELS.instance], ctx.instanceId);
    assert.equal(runs[0]?.state.phase, 'running');
    assert.equal((await second.backend.inspect('adopt'))?.phase, 'running');
    const ended = second.rec.ended('adopt');
    const rest = await output(second.backend, 'adopt', cursor);
    assert.equal(rest.text, 'two\n');
    assert.deepEqual(await ended, { kind: 'exited', code: 5 });
    await second.backend.remove('adopt');
    assert.equal(await second.backend.inspect('adopt'), undefined);
  });

  it('manages a pull secret per attempt and deletes it with the pod', async () => {
    const store = new MapCredentialStore({ '127.0.0.1:9': registryCredentials('robot', 'pa55') });
    const side = ctx.other({ pullSecret: { credentials: store } });
    const ended = side.rec.ended('private');
    await side.backend.start(ctx.req('private', ['true'], { image: '127.0.0.1:9/wharf/private:1' }));
    const name = podName('private');
    const secret = ctx.sim.secrets(NAMESPACE).find((s) => s.metadata?.name === name);
    assert.equal(secret?.type, 'kubernetes.io/dockerconfigjson');
    const config: unknown = JSON.parse(Buffer.from(secret?.data?.['.dockerconfigjson'] ?? '', 'base64').toString('utf8'));
    assert.deepEqual(config, { auths: { '127.0.0.1:9': { auth: Buffer.from('robot:pa55').toString('base64') } } });
    const pod = ctx.sim.pods(NAMESPACE).find((p) => p.metadata?.name === name);
    assert.deepEqual(pod?.spec?.imagePullSecrets, [{ name }]);
    assert.equal((await ended).kind, 'start_failed'); // nothing listens on 127.0.0.1:9
    await side.backend.remove('private');
    assert.equal(ctx.sim.secrets(NAMESPACE).some((s) => s.metadata?.name === name), false);
  });

  it('runs an operator\'s sidecar next to the task, and ends with the task', async () => {
    const side = ctx.other({
      podTemplate: { metadata: { labels: { team: 'ci' } }, spec: { containers: [{ name: 'helper', image: ctx.docker.busybox, command: ['sleep', '3600'] }] } },
    });
    const ended = side.rec.ended('sidecar');
    await side.backend.start(ctx.req('sidecar', ['sh', '-c', 'echo task']));
    const pod = ctx.sim.pods(NAMESPACE).find((p) => p.metadata?.name === podName('sidecar'));
    assert.equal(pod?.metadata?.labels?.['team'], 'ci');
    assert.deepEqual(pod?.spec?.containers.map((c) => c.name), ['main', 'helper']);
    assert.deepEqual(await ended, { kind: 'exited', code: 0 });
    assert.equal((await output(side.backend, 'sidecar')).text, 'task\n');
    await side.backend.remove('sidecar');
  });

  it('leaves no pod and no secret behind', async () => {
    await until('every pod gone', () => ctx.sim.pods(NAMESPACE).length === 0);
    assert.deepEqual(ctx.sim.secrets(NAMESPACE).filter((s) => s.type === 'kubernetes.io/dockerconfigjson'), []);
  });
});
