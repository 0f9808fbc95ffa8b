// The simulator's kubelet ending pods: graceful termination (SIGTERM honoured or ignored, then
// SIGKILL after the grace period), the final status and removal, capacity handed to a pending
// pod, and close() leaving no container behind.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { PodStatus } from '../k8s-sim/types.js';
import { pod, sh, testbed, type Testbed } from '../k8s-sim/kubelet/testbed.js';

const term = (s: PodStatus | undefined): [number | undefined, string | undefined] => {
  const t = s?.containerStatuses?.[0]?.state?.terminated;
  return [t?.exitCode, t?.reason];
};

describe('k8s-sim kubelet: termination', () => {
  let tb: Testbed;
  before(async () => { tb = await testbed({ nodes: [{ name: 'tiny', allocatable: { memory: '64Mi' } }] }); });
  after(() => tb.close());

  async function podContainers(name: string): Promise<unknown[]> {
    return tb.engine.request('GET', '/containers/json', { query: { all: true, filters: { label: [tb.kubelet.labelSelector, `io.kubernetes.pod.name=${name}`] } } });
  }

  async function terminated(name: string, grace: number): Promise<{ ms: number; last: PodStatus | undefined }> {
    const t0 = Date.now();
    tb.kubelet.terminate('default', name, grace);
    await tb.host.waitRemoved('default', name);
    return { ms: Date.now() - t0, last: tb.host.statuses('default', name).at(-1) };
  }

  it('stops a container that honours SIGTERM at once, reports 143/Error, then removes the pod and its container', async () => {
    tb.run(pod('trap', [sh(tb.busybox, 'trap "exit 143" TERM; while true; do sleep 0.05; done')]));
    await tb.phase('trap', 'Running');
    const r = await terminated('trap', 20);
    assert.ok(r.ms < 5000, `took ${r.ms} ms`);
    assert.equal(r.last?.phase, 'Failed');
    assert.deepEqual(term(r.last), [143, 'Error']);
    assert.deepEqual(await podContainers('trap'), []);
  });

  it('SIGKILLs a container that ignores SIGTERM once the grace period is over: 137/Error', async () => {
    tb.run(pod('stubborn', [sh(tb.busybox, 'trap "" TERM; while true; do sleep 0.05; done')]));
    await tb.phase('stubborn', 'Running');
    const r = await terminated('stubborn', 1);
    assert.ok(r.ms >= 1000, `took only ${r.ms} ms`);
    assert.deepEqual(term(r.last), [137, 'Error']);
  });

  it('kills at once with grace 0, and a shorter grace cuts a termination in progress short', async () => {
    tb.run(pod('now', [sh(tb.busybox, 'trap "" TERM; while true; do sleep 0.05; done')]));
    await tb.phase('now', 'Running');
    const r = await terminated('now', 0);
    assert.ok(r.ms < 5000, `took ${r.ms} ms`);
    assert.deepEqual(term(r.last), [137, 'Error']);

    tb.run(pod('cut', [sh(tb.busybox, 'trap "" TERM; while true; do sleep 0.05; done')]));
    await tb.phase('cut', 'Running');
    const t0 = Date.now();
    tb.kubelet.terminate('default', 'cut', 60);
    tb.kubelet.terminate('default', 'cut', 0);
    await tb.host.waitRemoved('default', 'cut');
    assert.ok(Date.now() - t0 < 10_000);
  });

  it('gives the node to a pending pod when a pod ends, and removes ended and pending pods at once', async () => {
    const mem = { resources: { requests: { memory: '48Mi' } } };
    tb.run(pod('first', [sh(tb.busybox, 'trap "exit 0" TERM; while true; do sleep 0.05; done', mem)]));
    await tb.phase('first', 'Running');
    tb.run(pod('second', [sh(tb.busybox, 'echo ran', mem)]));
    const p = await tb.host.waitFor('default', 'second', () => true);
    assert.equal(p.conditions?.[0]?.message, '0/1 nodes are available: 1 Insufficient memory. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.');
    tb.run(pod('third', [sh(tb.busybox, 'true', mem)]));
    await tb.host.waitFor('default', 'third', () => true);
    tb.kubelet.terminate('default', 'third', 30); // pending: removed at once
    await tb.host.waitRemoved('default', 'third', 5000);

    const r = await terminated('first', 30);
    assert.equal(r.last?.phase, 'Succeeded'); // exit 0 on SIGTERM
    assert.deepEqual(term(r.last), [0, 'Completed']);
    assert.equal((await tb.phase('second', 'Succeeded', 'Failed')).phase, 'Succeeded');
    assert.equal(tb.host.bound.get('default/second'), 'tiny');

    const done = await terminated('second', 30);
    assert.ok(done.ms < 5000);
    assert.deepEqual(await podContainers('second'), []);
  });

  it('leaves no container behind after close()', async () => {
    const other = await testbed();
    try {
      other.run(pod('a', [sh(other.busybox, 'sleep 60')]));
      other.run(pod('b', [sh(other.busybox, 'true')]));
      await Promise.all([other.phase('a', 'Running'), other.phase('b', 'Succeeded')]);
      assert.equal((await other.containers()).length, 2);
      await other.kubelet.close();
      assert.deepEqual(await other.containers(), []);
    } finally {
      await other.close();
    }
  });
});
