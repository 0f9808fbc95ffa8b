// Discovery documents and SelfSubjectAccessReview, compared with the reference captures.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AuthorizationV1Api, VersionApi } from '@kubernetes/client-node';
import { NS, raw, reference, setup, type Env } from '../k8s-sim/testing/helpers.js';

describe('k8s-sim: discovery', () => {
  let env: Env;
  before(async () => { env = await setup(); });
  after(() => env.sim.stop());

  it('/version is the 1.34 shape by default and the 1.32 shape on request', async () => {
    const v = await raw(env.sim, 'GET', '/version');
    assert.deepEqual(v.json(), { ...(reference('discovery/version-1.34.json') as object) });
    assert.equal(v.text.includes('\n  '), false, 'compact on the wire');
    const info = await env.kc.makeApiClient(VersionApi).getCode();
    assert.equal(info.gitVersion, 'v1.34.3');
    const old = await setup({ version: '1.32' });
    try {
      assert.deepEqual((await raw(old.sim, 'GET', '/version')).json(), reference('discovery/version-1.32.json'));
    } finally {
      await old.sim.stop();
    }
  });

  it('/api, /api/v1, /apis and the authorization group match the reference', async () => {
    const api = (await raw(env.sim, 'GET', '/api')).json() as { serverAddressByClientCIDRs: { serverAddress: string }[] };
    const refApi = reference('discovery/api.json') as { serverAddressByClientCIDRs: { serverAddress: string }[] };
    assert.deepEqual({ ...api, serverAddressByClientCIDRs: refApi.serverAddressByClientCIDRs }, refApi);
    assert.equal(api.serverAddressByClientCIDRs[0]?.serverAddress, new URL(env.sim.url).host);
    const v1 = (await raw(env.sim, 'GET', '/api/v1')).json() as { resources: { name: string }[] };
    const refV1 = reference('discovery/api-v1-excerpt.json') as { resources: { name: string }[] };
    for (const r of refV1.resources) assert.deepEqual(v1.resources.find((x) => x.name === r.name), r, r.name);
    const apis = (await raw(env.sim, 'GET', '/apis')).json() as { kind: string; groups: { name: string }[] };
    const refApis = reference('discovery/apis-excerpt.json') as { groups: { name: string }[] };
    assert.equal(apis.kind, 'APIGroupList');
    assert.deepEqual(apis.groups, refApis.groups.filter((g) => g.name === 'authorization.k8s.io'), 'only the groups it serves');
    assert.deepEqual((await raw(env.sim, 'GET', '/apis/authorization.k8s.io/v1')).json(), reference('discovery/apis-authorization.k8s.io-v1.json'));
  });
});

describe('k8s-sim: SelfSubjectAccessReview', () => {
  let env: Env;
  before(async () => {
    env = await setup({ rbac: [{ verb: 'create', resource: 'pods' }, { verb: 'get', resource: 'pods/log' }, { verb: '*', resource: 'secrets' }] });
  });
  after(() => env.sim.stop());

  const review = (verb: string, resource: string, subresource?: string): Promise<{ allowed: boolean; reason?: string }> =>
    env.kc.makeApiClient(AuthorizationV1Api).createSelfSubjectAccessReview({
      body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { namespace: NS, verb, group: '', version: 'v1', resource, ...(subresource ? { subresource } : {}) } } },
    }).then((r) => r.status ?? { allowed: false });

  it('answers 201 with the spec echoed and allowed from the RBAC table', async () => {
    const r = await raw(env.sim, 'POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', reference('authz/ssar-request.json'));
    assert.equal(r.status, 201);
    const body = r.json() as { status: { allowed: boolean; reason: string } };
    assert.equal(body.status.allowed, true);
    assert.match(body.status.reason, /^RBAC: allowed by RoleBinding "wharf\/tasks" of Role "wharf" to ServiceAccount "wharf\/tasks"$/);
    const denied = await raw(env.sim, 'POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
      kind: 'SelfSubjectAccessReview', apiVersion: 'authorization.k8s.io/v1', metadata: {},
      spec: { resourceAttributes: { namespace: 'tasks', verb: 'create', resource: 'pods', subresource: 'exec' } },
    });
    assert.deepEqual(denied.json(), reference('authz/ssar-response-denied.json'));
  });

  it('agrees with what the API then does, including forbid()', async () => {
    assert.equal((await review('create', 'pods')).allowed, true);
    assert.equal((await review('get', 'pods', 'log')).allowed, true);
    assert.equal((await review('delete', 'secrets')).allowed, true);
    assert.equal((await review('delete', 'pods')).allowed, false);
    assert.equal((await review('get', 'pods', 'attach')).allowed, false);
    env.sim.faults.forbid('get', 'pods', 'log');
    assert.equal((await review('get', 'pods', 'log')).allowed, false);
    const r = await raw(env.sim, 'GET', `/api/v1/namespaces/${NS}/pods/x/log`);
    assert.equal(r.status, 403);
    assert.equal((r.json() as { message: string }).message, 'pods "x" is forbidden: User "system:serviceaccount:tasks:wharf" cannot get resource "pods/log" in API group "" in the namespace "tasks"');
  });

  it('writes creationTimestamp: null in 1.32 responses and refuses a review without attributes', async () => {
    const old = await setup({ version: '1.32' });
    try {
      const r = await raw(old.sim, 'POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', reference('authz/ssar-request.json'));
      assert.deepEqual((r.json() as { metadata: unknown }).metadata, { creationTimestamp: null });
      const bad = await raw(old.sim, 'POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', { spec: {} });
      assert.equal(bad.status, 422);
    } finally {
      await old.sim.stop();
    }
  });
});
