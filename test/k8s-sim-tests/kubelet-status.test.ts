// The simulator's kubelet against the tests' dockerd: each pod status has the shape of the
// reference captures (shared/k8s-reference/pods/*.json: keys and their order, condition order,
// reasons, messages).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { PodStatus } from '../k8s-sim/types.js';
import { pod, sh, testbed, type Testbed } from '../k8s-sim/kubelet/testbed.js';

/** Keys in order, recursively: what the reference files fix besides the values. */
function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(shape);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, shape(x)]));
  return typeof v;
}

const keys = (o: object | undefined): string[] => Object.keys(o ?? {});
const conds = (s: PodStatus): (string | undefined)[][] => (s.conditions ?? []).map((c) => [c.type, c.status, c.reason]);
const main = (s: PodStatus): NonNullable<PodStatus['containerStatuses']>[number] => {
  const c = s.containerStatuses?.[0];
  assert.ok(c, 'a container status');
  return c;
};

// From the reference files (pods/05-running.json, 06-completed.json, 09-evicted.json).
const RUNNING_KEYS = ['phase', 'conditions', 'hostIP', 'hostIPs', 'podIP', 'podIPs', 'startTime', 'containerStatuses', 'qosClass'];
const EVICTED_KEYS = ['phase', 'conditions', 'message', 'reason', 'hostIP', 'hostIPs', 'podIP', 'podIPs', 'startTime', 'containerStatuses', 'qosClass'];
const CONTAINER_KEYS = ['name', 'state', 'lastState', 'ready', 'restartCount', 'image', 'imageID', 'containerID', 'started'];
const TERMINATED_KEYS = ['exitCode', 'reason', 'startedAt', 'finishedAt', 'containerID'];
const CONDITION = { type: 'string', status: 'string', lastProbeTime: 'object', lastTransitionTime: 'string' };
const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
const ENDED = [
  ['PodReadyToStartContainers', 'False', undefined],
  ['Initialized', 'True', undefined],
  ['Ready', 'False', 'PodFailed'],
  ['ContainersReady', 'False', 'PodFailed'],
  ['PodScheduled', 'True', undefined],
];

describe('k8s-sim kubelet: pod statuses', () => {
  let tb: Testbed;
  before(async () => { tb = await testbed(); });
  after(() => tb.close());

  it('reports a pod from ContainerCreating through Running to Succeeded, in the kubelet\'s shape', async (t) => {
    const started = Date.now();
    tb.run(pod('ok', [sh(tb.busybox, 'sleep 1')]));
    const running = await tb.phase('ok', 'Running');
    t.diagnostic(`pod admitted → Running status: ${Date.now() - started} ms`);
    assert.deepEqual(keys(running), RUNNING_KEYS);
    assert.deepEqual(conds(running), [['PodReadyToStartContainers', 'True', undefined], ['Initialized', 'True', undefined], ['Ready', 'True', undefined], ['ContainersReady', 'True', undefined], ['PodScheduled', 'True', undefined]]);
    for (const c of running.conditions ?? []) assert.deepEqual(shape(c), CONDITION);
    assert.equal(running.conditions?.[0]?.lastProbeTime, null);
    assert.equal(running.hostIP, '127.0.0.1');
    assert.deepEqual(running.podIPs, [{ ip: '127.0.0.1' }]);
    assert.match(running.startTime ?? '', TIME);
    assert.equal(running.qosClass, 'BestEffort');
    const rc = main(running);
    assert.deepEqual(keys(rc), CONTAINER_KEYS);
    assert.deepEqual(keys(rc.state), ['running']);
    assert.match(rc.state?.running?.startedAt ?? '', TIME);
    assert.deepEqual(rc.lastState, {});
    assert.equal(rc.image, `docker.io/${tb.busybox}`);
    assert.match(rc.imageID, /^sha256:[0-9a-f]{64}$/);
    assert.match(rc.containerID ?? '', /^docker:\/\/[0-9a-f]{64}$/);
    assert.deepEqual([rc.ready, rc.started, rc.restartCount], [true, true, 0]);

    // The first status: scheduled, no sandbox yet (pods/01-container-creating.json).
    const first = tb.host.statuses('default', 'ok')[0];
    assert.ok(first);
    assert.deepEqual(keys(first), ['phase', 'conditions', 'hostIP', 'hostIPs', 'startTime', 'containerStatuses', 'qosClass']);
    assert.deepEqual(conds(first), [['PodReadyToStartContainers', 'False', undefined], ['Initialized', 'True', undefined], ['Ready', 'False', 'ContainersNotReady'], ['ContainersReady', 'False', 'ContainersNotReady'], ['PodScheduled', 'True', undefined]]);
    assert.equal(first.conditions?.[2]?.message, 'containers with unready status: [main]');
    assert.deepEqual(main(first), { name: 'main', state: { waiting: { reason: 'ContainerCreating' } }, lastState: {}, ready: false, restartCount: 0, image: tb.busybox, imageID: '', started: false });
    assert.equal(tb.host.bound.get('default/ok')?.startsWith('sim-node-'), true);
  });

  it('reports exit 0 as Succeeded with Completed (pods/06-completed.json)', async () => {
    tb.run(pod('done', [sh(tb.busybox, 'echo hi')]));
    const s = await tb.phase('done', 'Succeeded', 'Failed');
    assert.equal(s.phase, 'Succeeded');
    assert.deepEqual(keys(s), RUNNING_KEYS);
    assert.deepEqual(conds(s), [['PodReadyToStartContainers', 'False', undefined], ['Initialized', 'True', 'PodCompleted'], ['Ready', 'False', 'PodCompleted'], ['ContainersReady', 'False', 'PodCompleted'], ['PodScheduled', 'True', undefined]]);
    const c = main(s);
    assert.deepEqual(keys(c), CONTAINER_KEYS);
    assert.deepEqual(keys(c.state?.terminated), TERMINATED_KEYS);
    assert.deepEqual([c.state?.terminated?.exitCode, c.state?.terminated?.reason], [0, 'Completed']);
    assert.equal(c.state?.terminated?.containerID, c.containerID);
    assert.match(c.state?.terminated?.finishedAt ?? '', TIME);
    assert.deepEqual([c.ready, c.started], [false, false]);
  });

  it('reports exit 3 as Failed with Error 3 (pods/07-error-exit-3.json)', async () => {
    tb.run(pod('exit3', [sh(tb.busybox, 'exit 3')]));
    const s = await tb.phase('exit3', 'Succeeded', 'Failed');
    assert.equal(s.phase, 'Failed');
    assert.deepEqual(conds(s), ENDED);
    assert.deepEqual(keys(s), RUNNING_KEYS);
    assert.deepEqual([main(s).state?.terminated?.exitCode, main(s).state?.terminated?.reason], [3, 'Error']);
  });

  it('reports a real OOM kill under a 16Mi limit as OOMKilled 137 (pods/08-oomkilled.json)', async () => {
    tb.run(pod('oom', [sh(tb.busybox, 'x=a; while true; do x=$x$x; done', { resources: { limits: { memory: '16Mi' } } })]));
    const s = await tb.phase('oom', 'Succeeded', 'Failed');
    assert.equal(s.phase, 'Failed');
    assert.deepEqual(conds(s), ENDED);
    assert.deepEqual([main(s).state?.terminated?.exitCode, main(s).state?.terminated?.reason], [137, 'OOMKilled']);
    assert.equal(s.qosClass, 'Burstable');
  });

  it('leaves a pod asking 10Gi Pending with only the scheduler\'s condition (pods/04-unschedulable.json), and schedules it when it fits', async () => {
    tb.run(pod('big', [sh(tb.busybox, 'true', { resources: { requests: { memory: '10Gi' } } })]));
    const s = await tb.host.waitFor('default', 'big', () => true);
    assert.deepEqual(s, {
      phase: 'Pending',
      conditions: [{
        type: 'PodScheduled', status: 'False', lastProbeTime: null, lastTransitionTime: s.conditions?.[0]?.lastTransitionTime, reason: 'Unschedulable',
        message: '0/3 nodes are available: 3 Insufficient memory. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.',
      }],
      qosClass: 'Burstable',
    });
    tb.run(pod('picky', [sh(tb.busybox, 'true')], { nodeSelector: { disk: 'ssd' } }));
    const p = await tb.host.waitFor('default', 'picky', () => true);
    assert.equal(p.conditions?.[0]?.message, "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.");
    assert.equal(tb.host.bound.has('default/big'), false);
  });

  it('kills a pod past activeDeadlineSeconds: Failed, DeadlineExceeded (pods/10-deadline-exceeded.json)', async () => {
    tb.run(pod('late', [sh(tb.busybox, 'sleep 60')], { activeDeadlineSeconds: 1, terminationGracePeriodSeconds: 0 }));
    const s = await tb.phase('late', 'Succeeded', 'Failed');
    assert.deepEqual(keys(s), EVICTED_KEYS);
    assert.deepEqual([s.phase, s.reason, s.message], ['Failed', 'DeadlineExceeded', 'Pod was active on the node longer than the specified deadline']);
    assert.deepEqual(conds(s), ENDED);
    assert.deepEqual([main(s).state?.terminated?.exitCode, main(s).state?.terminated?.reason], [137, 'Error']);
  });

  it('evicts a running pod: Failed, Evicted, the measured usage, DisruptionTarget first (pods/09-evicted.json)', async () => {
    tb.run(pod('evictee', [sh(tb.busybox, 'sleep 60', { resources: { requests: { memory: '1Ki' } } })]));
    await tb.phase('evictee', 'Running');
    await tb.kubelet.faults.evict('default', 'evictee');
    const s = await tb.phase('evictee', 'Failed');
    assert.deepEqual(keys(s), EVICTED_KEYS);
    assert.equal(s.reason, 'Evicted');
    assert.match(s.message ?? '', /^The node was low on resource: memory\. Threshold quantity: 100Mi, available: \d+Ki\. Container main was using \d+(Ki|Mi|k|M)?, request is 1Ki, has larger consumption of memory\. $/);
    assert.deepEqual(conds(s), [['DisruptionTarget', 'True', 'TerminationByKubelet'], ...ENDED]);
    assert.equal(s.conditions?.[0]?.message, s.message);
    assert.deepEqual([main(s).state?.terminated?.exitCode, main(s).state?.terminated?.reason], [137, 'Error']);
    await assert.rejects(tb.kubelet.faults.evict('default', 'evictee'), /not active/);
  });

  it('reports oomKill() as OOMKilled', async () => {
    tb.run(pod('oomfault', [sh(tb.busybox, 'sleep 60')]));
    await tb.phase('oomfault', 'Running');
    await tb.kubelet.faults.oomKill('default', 'oomfault');
    const s = await tb.phase('oomfault', 'Failed');
    assert.deepEqual([main(s).state?.terminated?.exitCode, main(s).state?.terminated?.reason], [137, 'OOMKilled']);
  });
});
