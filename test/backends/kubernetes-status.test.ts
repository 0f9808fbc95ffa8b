// Pod status → run state: every kubelet-reported status of the reference (k8s-reference/pods),
// and the run table's transitions (forward only, nothing repeated or lost, deletions told
// apart, the pending timeout). No cluster.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import { observePod, parseQuantity, type PodObservation } from '../../src/backends/kubernetes/pod-status.js';
import { RunTable } from '../../src/backends/kubernetes/run-table.js';
import type { RunEvent } from '../../src/backends/types.js';

/** The reference's pod statuses (copied into test/fixtures). */
const REFERENCE = new URL('../../../test/fixtures/k8s-reference', import.meta.url).pathname;

function referencePods(): Map<string, V1Pod> {
  const dir = join(REFERENCE, 'pods');
  const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  return new Map(files.map((f) => [f, JSON.parse(readFileSync(join(dir, f), 'utf8')) as V1Pod]));
}

const t = (s: string): number => Date.parse(s);

describe('kubernetes pod status', () => {
  const pods = referencePods();
  const expected: Record<string, PodObservation> = {
    '01-container-creating.json': { kind: 'pending' }, // the normal way to a start: nothing to tell
    '02-err-image-pull.json': {
      kind: 'pending',
      message: 'ErrImagePull: rpc error: code = NotFound desc = failed to pull and unpack image "docker.io/library/busybox:does-not-exist": failed to resolve reference "docker.io/library/busybox:does-not-exist": docker.io/library/busybox:does-not-exist: not found',
      pullError: 'rpc error: code = NotFound desc = failed to pull and unpack image "docker.io/library/busybox:does-not-exist": failed to resolve reference "docker.io/library/busybox:does-not-exist": docker.io/library/busybox:does-not-exist: not found',
    },
    '03-image-pull-backoff.json': {
      kind: 'start_failed',
      reason: 'rpc error: code = NotFound desc = failed to pull and unpack image "docker.io/library/busybox:does-not-exist": failed to resolve reference "docker.io/library/busybox:does-not-exist": docker.io/library/busybox:does-not-exist: not found',
      imagePull: true,
    },
    '04-unschedulable.json': {
      kind: 'pending',
      message: '0/3 nodes are available: 3 Insufficient memory. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.',
      unschedulable: true,
    },
    '05-running.json': { kind: 'running', startedAt: t('2024-07-01T08:52:10Z') },
    '06-completed.json': { kind: 'ended', exit: { kind: 'exited', code: 0 }, endedAt: t('2024-07-01T08:52:52Z'), startedAt: t('2024-07-01T08:52:10Z') },
    '07-error-exit-3.json': { kind: 'ended', exit: { kind: 'exited', code: 3 }, endedAt: t('2024-07-01T08:52:52Z'), startedAt: t('2024-07-01T08:52:10Z') },
    '08-oomkilled.json': { kind: 'ended', exit: { kind: 'oom_killed' }, endedAt: t('2024-07-01T08:52:52Z'), startedAt: t('2024-07-01T08:52:10Z') },
    '09-evicted.json': {
      kind: 'ended',
      exit: { kind: 'error', reason: 'evicted: The node was low on resource: memory. Threshold quantity: 750Mi, available: 179968Ki. Container main was using 1200Mi, request is 0, has larger consumption of memory.' },
      endedAt: t('2024-07-01T08:52:52Z'),
      startedAt: t('2024-07-01T08:52:10Z'),
    },
    '10-deadline-exceeded.json': {
      kind: 'ended',
      exit: { kind: 'error', reason: 'deadline exceeded: Pod was active on the node longer than the specified deadline' },
      endedAt: t('2024-07-01T08:52:52Z'),
      startedAt: t('2024-07-01T08:52:10Z'),
    },
    '11-being-deleted.json': { kind: 'running', startedAt: t('2024-07-01T08:52:10Z') },
  };

  it('maps every reference status, each file covered', () => {
    assert.deepEqual([...pods.keys()], Object.keys(expected));
    for (const [file, pod] of pods) assert.deepEqual(observePod(pod, 0), expected[file], file);
  });

  it('reads the times whether they are strings (watch) or Dates (list)', () => {
    const pod = pods.get('07-error-exit-3.json');
    assert.ok(pod);
    const term = pod.status?.containerStatuses?.[0]?.state?.terminated;
    assert.ok(term);
    const dated = structuredClone(pod);
    const t2 = dated.status?.containerStatuses?.[0]?.state?.terminated;
    assert.ok(t2);
    t2.finishedAt = new Date(String(term.finishedAt));
    t2.startedAt = new Date(String(term.startedAt));
    assert.deepEqual(observePod(dated, 0), observePod(pod, 0));
  });

  it('gives an OOM kill the memory limit of the task container', () => {
    const pod = structuredClone(pods.get('08-oomkilled.json'));
    assert.ok(pod);
    pod.spec = { containers: [{ name: 'main', resources: { limits: { memory: '64Mi' } } }] };
    const o = observePod(pod, 0);
    assert.deepEqual(o.kind === 'ended' && o.exit, { kind: 'oom_killed', memoryLimitBytes: 64 * 1024 * 1024 });
    assert.equal(parseQuantity('1G'), 1e9);
    assert.equal(parseQuantity('134217728'), 134217728);
    assert.equal(parseQuantity('1e3'), 1000);
    assert.equal(parseQuantity('lots'), undefined);
  });

  it('never turns a failure into exit 0, and tells a start failure apart', () => {
    const base = pods.get('07-error-exit-3.json');
    assert.ok(base);
    const zero = structuredClone(base);
    const term = zero.status?.containerStatuses?.[0]?.state?.terminated;
    assert.ok(term);
    term.exitCode = 0;
    const o = observePod(zero, 0);
    assert.equal(o.kind === 'ended' && o.exit.kind, 'error');
    term.exitCode = 128;
    term.reason = 'StartError';
    term.message = 'failed to create containerd task: exec: "nope": executable file not found in $PATH';
    assert.deepEqual(observePod(zero, 0), { kind: 'start_failed', reason: `StartError: ${term.message}` });
  });

  it('says why a pod that failed before its container ran did not start', () => {
    const pod: V1Pod = { status: { phase: 'Failed', reason: 'OutOfcpu', message: 'Pod Node didn\'t have enough resource: cpu' } };
    assert.deepEqual(observePod(pod, 0), { kind: 'start_failed', reason: 'OutOfcpu: Pod Node didn\'t have enough resource: cpu' });
    assert.deepEqual(observePod({ status: { phase: 'Pending' } }, 0), { kind: 'pending' });
  });
});

function recorder(table: RunTable): RunEvent[] {
  const events: RunEvent[] = [];
  table.subscribe((e) => events.push(e));
  return events;
}

describe('kubernetes run table', () => {
  const pods = referencePods();
  const get = (f: string): V1Pod => {
    const p = pods.get(f);
    assert.ok(p, f);
    return structuredClone(p);
  };
  const table = (podOf: (runId: string) => V1Pod | undefined = () => undefined, pendingTimeoutMs = 60_000): RunTable =>
    new RunTable({ pendingTimeoutMs, podOf });

  it('goes forward only: a pod seen again (relist, resumed watch) repeats nothing', () => {
    const tb = table();
    const events = recorder(tb);
    for (const f of ['01-container-creating.json', '01-container-creating.json', '05-running.json', '01-container-creating.json', '05-running.json', '07-error-exit-3.json', '05-running.json', '07-error-exit-3.json']) {
      tb.observe('r', get(f), false);
    }
    assert.deepEqual(events.map((e) => e.state.phase), ['running', 'ended']);
    const end = events.at(-1)?.state;
    assert.deepEqual(end?.phase === 'ended' && end.exit, { kind: 'exited', code: 3 });
    tb.close();
  });

  it('reports running before an end whose start it missed', () => {
    const tb = table();
    const events = recorder(tb);
    tb.observe('r', get('01-container-creating.json'), false);
    tb.observe('r', get('08-oomkilled.json'), false);
    assert.deepEqual(events.map((e) => e.state), [
      { phase: 'running', startedAt: t('2024-07-01T08:52:10Z') },
      { phase: 'ended', exit: { kind: 'oom_killed' }, endedAt: t('2024-07-01T08:52:52Z') },
    ]);
    tb.close();
  });

  it('tells the registry\'s message verbatim when the kubelet gives up pulling', () => {
    const tb = table();
    const events = recorder(tb);
    const backoff = get('03-image-pull-backoff.json');
    const waiting = backoff.status?.containerStatuses?.[0]?.state?.waiting;
    assert.ok(waiting);
    waiting.message = 'Back-off pulling image "busybox:does-not-exist"'; // before 1.32: no error in it
    tb.observe('r', get('02-err-image-pull.json'), false);
    tb.observe('r', backoff, false);
    const end = events.at(-1)?.state;
    assert.equal(end?.phase === 'ended' && end.exit.kind === 'start_failed' && end.exit.reason,
      'rpc error: code = NotFound desc = failed to pull and unpack image "docker.io/library/busybox:does-not-exist": failed to resolve reference "docker.io/library/busybox:does-not-exist": docker.io/library/busybox:does-not-exist: not found');
    tb.close();
  });

  it('tells a deletion by someone else from its own', () => {
    const tb = table();
    const events = recorder(tb);
    tb.observe('a', get('05-running.json'), false);
    tb.observe('a', get('05-running.json'), true);
    const a = tb.get('a')?.state;
    assert.deepEqual(a?.phase === 'ended' && a.exit, { kind: 'error', reason: 'pod deleted by someone else' });
    assert.deepEqual(events.map((e) => e.state.phase), ['running', 'ended']);

    // Killed by someone's graceful delete: the 137 is how, not what happened.
    const killed = get('07-error-exit-3.json');
    killed.metadata = { ...killed.metadata, deletionTimestamp: new Date() };
    tb.observe('b', get('05-running.json'), false);
    tb.observe('b', killed, false);
    const b = tb.get('b')?.state;
    assert.deepEqual(b?.phase === 'ended' && b.exit, { kind: 'error', reason: 'pod deleted by someone else' });

    // Stopped by Wharf: the container's own exit stands; deleted before it started: said so.
    tb.record('c').stopRequested = true;
    tb.observe('c', get('05-running.json'), false);
    tb.observe('c', killed, false);
    const c = tb.get('c')?.state;
    assert.deepEqual(c?.phase === 'ended' && c.exit, { kind: 'exited', code: 3 });
    tb.record('d').stopRequested = true;
    tb.observe('d', get('04-unschedulable.json'), true);
    const d = tb.get('d')?.state;
    assert.deepEqual(d?.phase === 'ended' && d.exit, { kind: 'start_failed', reason: 'stopped before it started' });
    tb.close();
  });

  it('ends a pod pending past the timeout with the scheduler\'s message', async () => {
    const pod = get('04-unschedulable.json');
    pod.metadata = { ...pod.metadata, creationTimestamp: new Date() };
    const tb = table(() => pod, 50);
    const events = recorder(tb);
    tb.observe('r', pod, false);
    assert.deepEqual(events.map((e) => e.state), [{ phase: 'starting', message: '0/3 nodes are available: 3 Insufficient memory. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.' }]);
    const alive = setInterval(() => undefined, 1000); // the backend's timers do not hold the process
    await tb.changed('r');
    clearInterval(alive);
    const end = tb.get('r')?.state;
    assert.deepEqual(end?.phase === 'ended' && end.exit,
      { kind: 'start_failed', reason: '0/3 nodes are available: 3 Insufficient memory. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.' });
    tb.close();
  });

  it('says where a run is for its log', () => {
    let pod: V1Pod | undefined = get('01-container-creating.json');
    const tb = table(() => pod);
    assert.equal(tb.progress('r'), 'pending');
    pod = get('05-running.json');
    assert.equal(tb.progress('r'), 'started');
    pod = get('06-completed.json');
    assert.equal(tb.progress('r'), 'ended');
    pod = undefined;
    assert.equal(tb.progress('r'), 'gone');
    tb.close();
  });
});
