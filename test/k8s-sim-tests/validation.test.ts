// What the API server refuses on create and how it says so: schema (kubernetes-models) decode
// errors (400), validation (422 with causes), unknown fields (dropped + Warning, or 400 when
// Strict), and Pod Security "restricted" (403).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { NS, pod, raw, setup, type Env } from '../k8s-sim/testing/helpers.js';

type StatusBody = { code: number; reason: string; message: string; details?: { causes?: { reason: string; message: string; field: string }[] } };

describe('k8s-sim: validation', () => {
  let env: Env;
  before(async () => {
    env = await setup({ namespaces: [NS, { name: 'locked', labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } }] });
  });
  after(() => env.sim.stop());

  const create = async (body: unknown, query = '', ns = NS): Promise<{ status: number; body: StatusBody; warning: string | string[] | undefined }> => {
    const r = await raw(env.sim, 'POST', `/api/v1/namespaces/${ns}/pods${query}`, body);
    return { status: r.status, body: r.json() as StatusBody, warning: r.headers['warning'] };
  };

  it('aggregates several errors into one 422 message, one cause each', async () => {
    const r = await create({
      metadata: { name: 'Bad_Name', labels: { 'ok': 'not ok!' } },
      spec: { restartPolicy: 'Sometimes', containers: [{ name: 'main', image: 'busybox' }, { name: 'main' }] },
    });
    assert.equal(r.status, 422);
    assert.deepEqual(r.body.details?.causes?.map((c) => [c.reason, c.field]), [
      ['FieldValueInvalid', 'metadata.name'],
      ['FieldValueInvalid', 'metadata.labels'],
      ['FieldValueDuplicate', 'spec.containers[1].name'],
      ['FieldValueRequired', 'spec.containers[1].image'],
      ['FieldValueNotSupported', 'spec.restartPolicy'],
    ]);
    assert.ok(r.body.message.startsWith('Pod "Bad_Name" is invalid: [metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, \'-\' or \'.\', and must start and end with an alphanumeric character (e.g. \'example.com\', regex used for validation is \'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\'), '), r.body.message);
    assert.ok(r.body.message.endsWith(', spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"]'), r.body.message);
  });

  it('requires containers, container names and a name or generateName', async () => {
    const r = await create({ metadata: {}, spec: { containers: [] } });
    assert.equal(r.status, 422);
    assert.deepEqual(r.body.details?.causes?.map((c) => `${c.field}: ${c.message}`), [
      'metadata.name: Required value: name or generateName is required',
      'spec.containers: Required value',
    ]);
  });

  it('turns type mismatches and bad quantities into the decoder\'s 400', async () => {
    const t = await create({ metadata: { name: 'x' }, spec: { containers: [{ name: 'main', image: 5 }] } });
    assert.equal(t.status, 400);
    assert.equal(t.body.message, 'Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal number into Go struct field Container.spec.containers.image of type string');
    const q = await create({ metadata: { name: 'x' }, spec: { containers: [{ name: 'main', image: 'busybox', resources: { limits: { cpu: 'lots' } } }] } });
    assert.equal(q.status, 400);
    assert.equal(q.body.message, "Pod in version \"v1\" cannot be handled as a Pod: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
    const lim = await create({ metadata: { name: 'x' }, spec: { containers: [{ name: 'main', image: 'busybox', resources: { limits: { cpu: '1' }, requests: { cpu: '2' } } }] } });
    assert.equal(lim.status, 422);
    assert.equal(lim.body.message, 'Pod "x" is invalid: spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1');
  });

  it('drops unknown fields with a Warning header, or refuses them under fieldValidation=Strict', async () => {
    const body = { metadata: { name: 'unk' }, spec: { foo: 1, containers: [{ name: 'main', image: 'busybox', bar: true }] } };
    const r = await raw(env.sim, 'POST', `/api/v1/namespaces/${NS}/pods`, body);
    assert.equal(r.status, 201);
    // in document order, as the decoder meets them
    assert.equal(r.headers['warning'], '299 - "unknown field \\"spec.foo\\"", 299 - "unknown field \\"spec.containers[0].bar\\""');
    const stored = r.json() as { spec: Record<string, unknown> };
    assert.equal('foo' in stored.spec, false);
    const strict = await create({ ...body, metadata: { name: 'unk2' } }, '?fieldValidation=Strict');
    assert.equal(strict.status, 400);
    assert.equal(strict.body.message, 'Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "spec.foo", unknown field "spec.containers[0].bar"');
  });

  it('refuses a pod that violates the restricted Pod Security Standard with the real 403', async () => {
    const r = await create(pod('task-7f9c'), '', 'locked');
    assert.equal(r.status, 403);
    assert.equal(r.body.reason, 'Forbidden');
    assert.equal(r.body.message, 'pods "task-7f9c" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false (container "main" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "main" must set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or container "main" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container "main" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")');
    const priv = pod('priv');
    const c = priv.spec?.containers[0];
    if (c) c.securityContext = { privileged: true };
    const p = await create(priv, '', 'locked');
    assert.ok(p.body.message.includes('violates PodSecurity "restricted:latest": privileged (container "main" must not set securityContext.privileged=true), allowPrivilegeEscalation != false'), p.body.message);
  });

  it('admits a hardened pod in the restricted namespace', async () => {
    const ok = pod('hardened');
    if (ok.spec) ok.spec.securityContext = { runAsNonRoot: true, runAsUser: 65534, seccompProfile: { type: 'RuntimeDefault' } };
    const c = ok.spec?.containers[0];
    if (c) c.securityContext = { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } };
    const r = await create(ok, '', 'locked');
    assert.equal(r.status, 201, JSON.stringify(r.body));
  });
});
