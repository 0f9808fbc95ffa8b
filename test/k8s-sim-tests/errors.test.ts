// Error answers are the real ones, byte for byte where the reference has a capture: 404, 409, 422,
// 403, 401, 429 (APF plain text), 500, 410 (watch ERROR), 400s.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApiException, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { NS, pod, raw, reference, referenceText, setup, type Env } from '../k8s-sim/testing/helpers.js';

async function apiError(p: Promise<unknown>): Promise<ApiException<unknown>> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ApiException) return e;
    throw e;
  }
  throw new Error('expected the request to fail');
}

function body(e: ApiException<unknown>): unknown {
  return JSON.parse(String(e.body));
}

describe('k8s-sim: Status errors', () => {
  let env: Env;
  before(async () => { env = await setup(); });
  after(() => env.sim.stop());

  it('404 NotFound for a missing pod equals the real body', async () => {
    const e = await apiError(env.core.readNamespacedPod({ namespace: NS, name: 'task-7f9c' }));
    assert.equal(e.code, 404);
    assert.deepEqual(body(e), reference('errors/404-pod-not-found.json'));
    const del = await apiError(env.core.deleteNamespacedPod({ namespace: NS, name: 'task-7f9c' }));
    assert.deepEqual(body(del), reference('errors/404-pod-not-found.json'));
  });

  it('409 AlreadyExists on a second create of the same name', async () => {
    await env.core.createNamespacedPod({ namespace: NS, body: pod('task-7f9c') });
    const e = await apiError(env.core.createNamespacedPod({ namespace: NS, body: pod('task-7f9c') }));
    assert.equal(e.code, 409);
    assert.deepEqual(body(e), reference('errors/409-pod-already-exists.json'));
    await env.core.deleteNamespacedPod({ namespace: NS, name: 'task-7f9c', gracePeriodSeconds: 0 });
  });

  it('422 Invalid for a pod without an image, with the field cause', async () => {
    const p = pod('task-7f9c');
    delete p.spec?.containers[0]?.image;
    const e = await apiError(env.core.createNamespacedPod({ namespace: NS, body: p }));
    assert.equal(e.code, 422);
    assert.deepEqual(body(e), reference('errors/422-pod-invalid.json'));
  });

  it('500 InternalError from failNext has the NewInternalError shape', async () => {
    const err = 'failed calling webhook "mutate.example.com": failed to call webhook: Post "https://webhook.example.svc:443/mutate?timeout=10s": context deadline exceeded';
    env.sim.faults.failNext({ verb: 'create', resource: 'pods', status: 500, message: err });
    const e = await apiError(env.core.createNamespacedPod({ namespace: NS, body: pod('x') }));
    assert.equal(e.code, 500);
    assert.deepEqual(body(e), reference('errors/500-internal-error.json'));
    assert.equal(env.sim.pods(NS).length, 0, 'a failed create stores nothing');
  });

  it('429 from APF is plain text with Retry-After, and only the matching request fails', async () => {
    env.sim.faults.failNext({ verb: 'list', resource: 'pods', status: 429 });
    const other = await raw(env.sim, 'GET', `/api/v1/namespaces/${NS}/secrets`);
    assert.equal(other.status, 200);
    const r = await raw(env.sim, 'GET', `/api/v1/namespaces/${NS}/pods`);
    assert.equal(r.status, 429);
    assert.equal(r.headers['content-type'], 'text/plain; charset=utf-8');
    assert.equal(r.headers['retry-after'], '1');
    const ref = referenceText('errors/429-apf-too-many-requests.http');
    assert.equal(r.text, ref.slice(ref.indexOf('\n\n') + 2));
    env.sim.faults.failNext({ verb: 'list', resource: 'pods', status: 429 });
    const e = await apiError(env.core.listNamespacedPod({ namespace: NS }));
    assert.equal(e.code, 429);
    assert.equal((await raw(env.sim, 'GET', `/api/v1/namespaces/${NS}/pods`)).status, 200, 'count defaults to 1');
  });

  it('503 ServiceUnavailable as a Status', async () => {
    env.sim.faults.failNext({ status: 503, count: 2 });
    const a = await raw(env.sim, 'GET', '/version');
    const b = await raw(env.sim, 'GET', `/api/v1/namespaces/${NS}/pods`);
    assert.deepEqual([a.status, b.status], [503, 503]);
    assert.deepEqual(b.json(), { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'the server is currently unable to handle the request', reason: 'ServiceUnavailable', code: 503 });
  });

  it('400 when the body names another namespace; 404 for a namespace that does not exist', async () => {
    const p = pod('x');
    p.metadata = { ...p.metadata, namespace: 'other' };
    const e = await apiError(env.core.createNamespacedPod({ namespace: NS, body: p }));
    assert.equal(e.code, 400);
    assert.deepEqual(body(e), { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'the namespace of the provided object does not match the namespace sent on the request', reason: 'BadRequest', code: 400 });
    const nf = await apiError(env.core.createNamespacedPod({ namespace: 'nope', body: pod('x') }));
    assert.equal(nf.code, 404);
    assert.equal((body(nf) as { message: string }).message, 'namespaces "nope" not found');
  });

  it('slow() delays every answer until turned off', async () => {
    env.sim.faults.slow(150);
    const t0 = Date.now();
    assert.equal((await raw(env.sim, 'GET', '/version')).status, 200);
    assert.ok(Date.now() - t0 >= 140, 'delayed');
    env.sim.faults.slow(0);
  });

  it('405 for a verb the resource does not serve, 404 for an unknown resource', async () => {
    const put = await raw(env.sim, 'PUT', `/api/v1/namespaces/${NS}/pods/x`, pod('x'));
    assert.equal(put.status, 405);
    assert.equal((put.json() as { reason: string }).reason, 'MethodNotAllowed');
    const cm = await raw(env.sim, 'GET', `/api/v1/namespaces/${NS}/configmaps`);
    assert.equal(cm.status, 404);
  });
});

describe('k8s-sim: authentication and authorization errors', () => {
  let env: Env;
  before(async () => {
    env = await setup({ token: 'sekret', user: 'system:serviceaccount:tasks:runner', rbac: [{ verb: 'list', resource: 'pods' }] });
  });
  after(() => env.sim.stop());

  it('401 without or with a wrong bearer token', async () => {
    const none = await raw(env.sim, 'GET', `/api/v1/namespaces/${NS}/pods`);
    assert.equal(none.status, 401);
    assert.deepEqual(none.json(), reference('errors/401-unauthorized.json'));
    const wrong = await raw(env.sim, 'GET', '/version', undefined, { Authorization: 'Bearer nope' });
    assert.equal(wrong.status, 401);
    const o = env.sim.kubeConfigOptions();
    const kc = new KubeConfig();
    kc.loadFromOptions({ ...o, users: o.users.map((u) => ({ ...u, token: 'nope' })) });
    const e = await apiError(kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: NS }));
    assert.equal(e.code, 401);
    assert.equal(e.body, undefined, 'client-node drops a 401 body');
  });

  it('403 for what the RBAC table does not allow, with the real messages', async () => {
    const create = await apiError(env.core.createNamespacedPod({ namespace: NS, body: pod('x') }));
    assert.equal(create.code, 403);
    assert.deepEqual(body(create), reference('errors/403-forbidden-create-pods.json'));
    const get = await apiError(env.core.readNamespacedPod({ namespace: NS, name: 'task-7f9c' }));
    assert.deepEqual(body(get), reference('errors/403-forbidden-get-named-pod.json'));
    const list = await env.core.listNamespacedPod({ namespace: NS });
    assert.equal(list.items.length, 0, 'list is allowed');
  });

  it('forbid() denies a verb from then on, subresources included', async () => {
    env.sim.faults.forbid('list', 'pods');
    const e = await apiError(env.core.listNamespacedPod({ namespace: NS }));
    assert.equal(e.code, 403);
    assert.match((body(e) as { message: string }).message, /^pods is forbidden: User "system:serviceaccount:tasks:runner" cannot list resource "pods" in API group "" in the namespace "tasks"$/);
  });
});
