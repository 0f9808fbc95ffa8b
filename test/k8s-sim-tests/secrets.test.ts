// Secrets through the official client: create (stringData folded, type defaulted), get, list,
// delete (a Success Status), and the dockerconfigjson rules.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApiException } from '@kubernetes/client-node';
import { NS, raw, setup, type Env } from '../k8s-sim/testing/helpers.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

describe('k8s-sim: secrets', () => {
  let env: Env;
  before(async () => { env = await setup(); });
  after(() => env.sim.stop());

  it('creates, reads, lists and deletes a secret', async () => {
    const created = await env.core.createNamespacedSecret({ namespace: NS, body: { metadata: { name: 's1' }, stringData: { user: 'ann' }, data: { pass: b64('pw') } } });
    assert.equal(created.type, 'Opaque');
    assert.deepEqual(created.data, { pass: b64('pw'), user: b64('ann') });
    assert.equal(created.stringData, undefined);
    const read = await env.core.readNamespacedSecret({ namespace: NS, name: 's1' });
    assert.equal(read.metadata?.uid, created.metadata?.uid);
    assert.deepEqual((await env.core.listNamespacedSecret({ namespace: NS })).items.map((s) => s.metadata?.name), ['s1']);
    const st = await env.core.deleteNamespacedSecret({ namespace: NS, name: 's1' });
    assert.equal(st.status, 'Success');
    assert.deepEqual({ ...st.details }, { name: 's1', kind: 'secrets', uid: created.metadata?.uid });
    assert.equal(env.sim.secrets(NS).length, 0);
    try {
      await env.core.readNamespacedSecret({ namespace: NS, name: 's1' });
      assert.fail('expected 404');
    } catch (e) {
      assert.ok(e instanceof ApiException);
      assert.equal(JSON.parse(String(e.body)).message, 'secrets "s1" not found');
    }
  });

  it('accepts a dockerconfigjson secret and refuses one whose .dockerconfigjson is missing or not JSON', async () => {
    const good = b64(JSON.stringify({ auths: { 'registry.local:5000': { auth: b64('u:p') } } }));
    const ok = await env.core.createNamespacedSecret({ namespace: NS, body: { metadata: { name: 'pull' }, type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': good } } });
    assert.equal(ok.type, 'kubernetes.io/dockerconfigjson');
    const missing = await raw(env.sim, 'POST', `/api/v1/namespaces/${NS}/secrets`, { metadata: { name: 'p2' }, type: 'kubernetes.io/dockerconfigjson', data: {} });
    assert.equal(missing.status, 422);
    assert.equal((missing.json() as { message: string }).message, 'Secret "p2" is invalid: data[.dockerconfigjson]: Required value');
    const notJson = await raw(env.sim, 'POST', `/api/v1/namespaces/${NS}/secrets`, { metadata: { name: 'p3' }, type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': b64('nope') } });
    assert.equal(notJson.status, 422);
    assert.equal((notJson.json() as { message: string }).message, 'Secret "p3" is invalid: data[.dockerconfigjson]: Invalid value: "<secret contents redacted>": invalid character \'n\' looking for beginning of value');
    const notB64 = await raw(env.sim, 'POST', `/api/v1/namespaces/${NS}/secrets`, { metadata: { name: 'p4' }, data: { k: 'not base64!' } });
    assert.equal(notB64.status, 400);
    assert.equal((notB64.json() as { message: string }).message, 'Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 3');
  });

  it('409 for a second secret of the same name; bad keys are 422', async () => {
    await env.core.createNamespacedSecret({ namespace: NS, body: { metadata: { name: 'dup' } } });
    const again = await raw(env.sim, 'POST', `/api/v1/namespaces/${NS}/secrets`, { metadata: { name: 'dup' } });
    assert.equal(again.status, 409);
    assert.equal((again.json() as { message: string }).message, 'secrets "dup" already exists');
    const badKey = await raw(env.sim, 'POST', `/api/v1/namespaces/${NS}/secrets`, { metadata: { name: 'k' }, data: { 'a b': b64('x') } });
    assert.equal(badKey.status, 422);
    assert.equal((badKey.json() as { details: { causes: { field: string }[] } }).details.causes[0]?.field, 'data[a b]');
  });
});
