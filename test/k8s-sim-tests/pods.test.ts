// Pods through the official client: create (defaults, server-owned metadata), get, list with label
// and field selectors, and deletion as the registry does it (graceful vs immediate).
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ApiException, type V1Pod } from '@kubernetes/client-node';
import { NS, pod, raw, setup, type Env } from '../k8s-sim/testing/helpers.js';

describe('k8s-sim: pods', () => {
  let env: Env;
  before(async () => { env = await setup(); });
  after(() => env.sim.stop());
  beforeEach(async () => {
    for (const p of env.sim.pods(NS)) await env.core.deleteNamespacedPod({ namespace: NS, name: p.metadata?.name ?? '', gracePeriodSeconds: 0 });
  });

  it('creates a pod with server-owned metadata, defaults and a Pending status, then the kubelet runs it', async () => {
    const created = await env.core.createNamespacedPod({ namespace: NS, body: pod('a') });
    assert.match(created.metadata?.uid ?? '', /^[0-9a-f-]{36}$/);
    assert.match(created.metadata?.resourceVersion ?? '', /^\d+$/);
    assert.ok(created.metadata?.creationTimestamp instanceof Date);
    assert.equal(created.metadata?.namespace, NS);
    assert.equal(created.status?.phase, 'Pending');
    assert.equal(created.status?.qosClass, 'BestEffort');
    assert.equal(created.spec?.terminationGracePeriodSeconds, 30);
    assert.equal(created.spec?.containers[0]?.imagePullPolicy, 'Always');
    assert.equal(created.spec?.containers[0]?.terminationMessagePath, '/dev/termination-log');
    assert.equal(created.spec?.nodeName, undefined, 'not yet bound');
    assert.deepEqual(env.fake.admitted, [`${NS}/a`]);
    const read = await env.core.readNamespacedPod({ namespace: NS, name: 'a' });
    assert.equal(read.spec?.nodeName, 'sim-node-1');
    assert.equal(read.status?.phase, 'Running');
    assert.ok(Number(read.metadata?.resourceVersion) > Number(created.metadata?.resourceVersion));
  });

  it('serves GET in the Go struct key order with kind and apiVersion; list items carry neither', async () => {
    await env.core.createNamespacedPod({ namespace: NS, body: pod('order') });
    const one = (await raw(env.sim, 'GET', `/api/v1/namespaces/${NS}/pods/order`)).json() as Record<string, Record<string, unknown>>;
    assert.deepEqual(Object.keys(one), ['kind', 'apiVersion', 'metadata', 'spec', 'status']);
    assert.deepEqual(Object.keys(one['metadata'] ?? {}).slice(0, 6), ['name', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp']);
    const list = (await raw(env.sim, 'GET', `/api/v1/namespaces/${NS}/pods`)).json() as { kind: string; apiVersion: string; metadata: { resourceVersion: string }; items: Record<string, unknown>[] };
    assert.equal(list.kind, 'PodList');
    assert.deepEqual(Object.keys(list.items[0] ?? {}), ['metadata', 'spec', 'status']);
    assert.match(list.metadata.resourceVersion, /^\d+$/);
  });

  it('names a pod from generateName', async () => {
    const p = pod('');
    p.metadata = { generateName: 'task-', labels: { app: 'task' } };
    const created = await env.core.createNamespacedPod({ namespace: NS, body: p });
    assert.match(created.metadata?.name ?? '', /^task-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  });

  it('lists with every label selector operator', async () => {
    const mk = (name: string, labels: Record<string, string>): Promise<V1Pod> => env.core.createNamespacedPod({ namespace: NS, body: pod(name, { labels }) });
    await mk('l1', { app: 'task', tier: 'a' });
    await mk('l2', { app: 'task', tier: 'b' });
    await mk('l3', { app: 'web' });
    const names = async (labelSelector: string): Promise<string[]> =>
      (await env.core.listNamespacedPod({ namespace: NS, labelSelector })).items.map((p) => p.metadata?.name ?? '');
    assert.deepEqual(await names('app=task'), ['l1', 'l2']);
    assert.deepEqual(await names('app==task,tier=b'), ['l2']);
    assert.deepEqual(await names('tier!=a'), ['l2', 'l3']);
    assert.deepEqual(await names('tier in (a, b)'), ['l1', 'l2']);
    assert.deepEqual(await names('tier notin (a)'), ['l2', 'l3']);
    assert.deepEqual(await names('tier'), ['l1', 'l2']);
    assert.deepEqual(await names('!tier'), ['l3']);
    const bad = await raw(env.sim, 'GET', `/api/v1/namespaces/${NS}/pods?labelSelector=${encodeURIComponent('a b c')}`);
    assert.equal(bad.status, 400);
  });

  it('lists with field selectors and refuses unsupported fields', async () => {
    await env.core.createNamespacedPod({ namespace: NS, body: pod('f1') });
    await env.core.createNamespacedPod({ namespace: NS, body: pod('f2') });
    env.fake.exit(NS, 'f2', 0);
    const names = async (fieldSelector: string): Promise<string[]> =>
      (await env.core.listNamespacedPod({ namespace: NS, fieldSelector })).items.map((p) => p.metadata?.name ?? '');
    assert.deepEqual(await names('metadata.name=f1'), ['f1']);
    assert.deepEqual(await names('status.phase=Succeeded'), ['f2']);
    assert.deepEqual(await names('status.phase!=Succeeded,spec.nodeName=sim-node-1'), ['f1']);
    assert.deepEqual(await names(`metadata.namespace=${NS},spec.nodeName=elsewhere`), []);
    const bad = await raw(env.sim, 'GET', `/api/v1/namespaces/${NS}/pods?fieldSelector=spec.image%3Dx`);
    assert.equal(bad.status, 400);
    assert.equal((bad.json() as { message: string }).message, 'field label not supported: spec.image');
    const all = await env.core.listPodForAllNamespaces({ fieldSelector: 'metadata.name=f1' });
    assert.deepEqual(all.items.map((p) => p.metadata?.namespace), [NS]);
  });

  it('pages a list with limit and continue', async () => {
    for (const n of ['p1', 'p2', 'p3']) await env.core.createNamespacedPod({ namespace: NS, body: pod(n) });
    const first = await env.core.listNamespacedPod({ namespace: NS, limit: 2 });
    assert.deepEqual(first.items.map((p) => p.metadata?.name), ['p1', 'p2']);
    assert.ok(first.metadata?._continue);
    const rest = await env.core.listNamespacedPod({ namespace: NS, limit: 2, _continue: first.metadata?._continue ?? '' });
    assert.deepEqual(rest.items.map((p) => p.metadata?.name), ['p3']);
    assert.equal(rest.metadata?._continue, undefined);
    assert.equal(rest.metadata?.resourceVersion, first.metadata?.resourceVersion);
  });

  it('deletes a running pod gracefully: 200 with deletionTimestamp, kubelet told, gone after host.remove', async () => {
    const env2 = await setup({ fake: { autoFinish: false } });
    try {
      await env2.core.createNamespacedPod({ namespace: NS, body: pod('g') });
      const before = Date.now();
      const res = await env2.core.deleteNamespacedPod({ namespace: NS, name: 'g', body: { gracePeriodSeconds: 20, propagationPolicy: 'Background' } });
      assert.equal(res.metadata?.deletionGracePeriodSeconds, 20);
      const at = res.metadata?.deletionTimestamp?.getTime() ?? 0;
      assert.ok(at >= Math.floor(before / 1000) * 1000 + 19_000 && at <= before + 21_000, `deletionTimestamp ≈ now + 20 s, got ${String(res.metadata?.deletionTimestamp)}`);
      assert.deepEqual(env2.fake.terminated, [{ key: `${NS}/g`, grace: 20 }]);
      assert.equal(env2.sim.pods(NS).length, 1, 'still there while terminating');
      // a second delete with a longer grace changes nothing; a shorter one shortens it
      const again = await env2.core.deleteNamespacedPod({ namespace: NS, name: 'g', gracePeriodSeconds: 60 });
      assert.equal(again.metadata?.resourceVersion, res.metadata?.resourceVersion);
      env2.fake.finishTermination(NS, 'g');
      assert.equal(env2.sim.pods(NS).length, 0);
    } finally {
      await env2.sim.stop();
    }
  });

  it('uses spec.terminationGracePeriodSeconds when the request names none', async () => {
    const env2 = await setup({ fake: { autoFinish: false } });
    try {
      const p = pod('t');
      if (p.spec) p.spec.terminationGracePeriodSeconds = 7;
      await env2.core.createNamespacedPod({ namespace: NS, body: p });
      const res = await env2.core.deleteNamespacedPod({ namespace: NS, name: 't' });
      assert.equal(res.metadata?.deletionGracePeriodSeconds, 7);
    } finally {
      await env2.sim.stop();
    }
  });

  it('forces grace 0 for an unscheduled or finished pod: removed at once, kubelet still told', async () => {
    const env2 = await setup({ fake: { autoRun: false, autoFinish: false } });
    try {
      await env2.core.createNamespacedPod({ namespace: NS, body: pod('u') });
      const res = await env2.core.deleteNamespacedPod({ namespace: NS, name: 'u', gracePeriodSeconds: 30 });
      assert.equal(res.metadata?.deletionGracePeriodSeconds, 0);
      assert.equal(env2.sim.pods(NS).length, 0);
      await env2.core.createNamespacedPod({ namespace: NS, body: pod('done') });
      env2.fake.bind(NS, 'done');
      env2.fake.exit(NS, 'done', 0);
      await env2.core.deleteNamespacedPod({ namespace: NS, name: 'done' });
      assert.equal(env2.sim.pods(NS).length, 0);
      assert.deepEqual(env2.fake.terminated, [{ key: `${NS}/u`, grace: 0 }, { key: `${NS}/done`, grace: 0 }]);
    } finally {
      await env2.sim.stop();
    }
  });

  it('honours a UID precondition (409 Conflict) and refuses an unknown propagationPolicy (422)', async () => {
    await env.core.createNamespacedPod({ namespace: NS, body: pod('pre') });
    try {
      await env.core.deleteNamespacedPod({ namespace: NS, name: 'pre', body: { preconditions: { uid: 'not-it' } } });
      assert.fail('expected a conflict');
    } catch (e) {
      assert.ok(e instanceof ApiException);
      assert.equal(e.code, 409);
      assert.match(String(e.body), /Operation cannot be fulfilled on pods \\"pre\\": Precondition failed: UID in precondition: not-it, UID in object meta: /);
    }
    const bad = await raw(env.sim, 'DELETE', `/api/v1/namespaces/${NS}/pods/pre?propagationPolicy=Sideways`);
    assert.equal(bad.status, 422);
  });

  it('deletePod fault removes a pod behind the client, with grace 0', async () => {
    await env.core.createNamespacedPod({ namespace: NS, body: pod('victim') });
    env.sim.faults.deletePod(NS, 'victim');
    assert.equal(env.sim.pods(NS).length, 0);
    assert.deepEqual(env.fake.terminated.at(-1), { key: `${NS}/victim`, grace: 0 });
  });

  it('serves namespaces (get/list) from the fixed set', async () => {
    const list = await env.core.listNamespace();
    assert.deepEqual(list.items.map((n) => n.metadata?.name), ['other', NS]);
    const ns = await env.core.readNamespace({ name: NS });
    assert.equal(ns.status?.phase, 'Active');
    assert.equal(ns.metadata?.labels?.['kubernetes.io/metadata.name'], NS);
  });
});
