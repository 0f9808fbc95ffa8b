import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { policyErrors } from '../../src/core/policy.js';
import { DEFAULT_POLICY, parsePolicy, type Policy } from '../../src/spec/policy.js';
import type { JobSpec, TaskSpec } from '../../src/spec/schema.js';

const job = (t: Partial<TaskSpec>): JobSpec => ({ name: 'j', tasks: { t: { command: ['x'], image: 'i', backend: 'docker', ...t } } });
const policy = (text: string): Policy => {
  const r = parsePolicy(text);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.policy;
};

describe('policy', () => {
  it('by default allows non-privileged requests only', () => {
    assert.deepEqual(policyErrors(job({ user: '0', network: 'bridge', capabilities: ['NET_BIND_SERVICE'], writableRootfs: true }), DEFAULT_POLICY), []);
    assert.deepEqual(policyErrors(job({ privileged: true, capabilities: ['SYS_ADMIN'], network: 'host' }), DEFAULT_POLICY).map((e) => e.path),
      ['tasks.t.privileged', 'tasks.t.capabilities[0]', 'tasks.t.network']);
    assert.deepEqual(policyErrors(job({ privileged: true }), DEFAULT_POLICY),
      [{ path: 'tasks.t.privileged', message: 'a privileged container: refused by the server\'s policy (allowPrivileged: false)' }]);
  });

  it('applies each rule of a policy file', () => {
    const p = policy('allowPrivileged: true\nallowedCapabilities: [NET_ADMIN]\nallowedNetworks: [host]\nrequireNonRoot: true\nallowWritableRootfs: false\nallowedHostPaths: [/data]\n');
    assert.deepEqual(policyErrors(job({ privileged: true, capabilities: ['NET_ADMIN'], network: 'host', user: '1000' }), p), []);
    const errors = policyErrors(job({ capabilities: ['CHOWN'], network: 'bridge', writableRootfs: true, build: { context: '/data2/x' }, inputs: [{ from: '/data/in', to: '/in' }] }), p);
    assert.deepEqual(errors.map((e) => e.path), ['tasks.t.capabilities[0]', 'tasks.t.network', 'tasks.t.user', 'tasks.t.writableRootfs', 'tasks.t.build.context']);
    assert.match(errors[2]?.message ?? '', /no user stated .*\(requireNonRoot: true\)/);
    assert.match(policyErrors(job({ user: 'root:1' }), p)[0]?.message ?? '', /user "root:1" is root/);
  });

  it('allows no features by default, and those a policy lists', () => {
    const k = (features: TaskSpec['features']): JobSpec => job({ backend: 'kubernetes', features });
    assert.deepEqual(policyErrors(k(['kata', 'docker']), DEFAULT_POLICY), [
      { path: 'tasks.t.features[0]', message: 'feature kata: refused by the server\'s policy (allowedFeatures: [])' },
      { path: 'tasks.t.features[1]', message: 'feature docker: refused by the server\'s policy (allowedFeatures: [])' },
    ]);
    const p = policy('allowedFeatures: [kata]\n');
    assert.deepEqual(policyErrors(k(['kata']), p), []);
    assert.deepEqual(policyErrors(k(['docker']), p).map((e) => e.message), ['feature docker: refused by the server\'s policy (allowedFeatures: ["kata"])']);
    const bad = parsePolicy('allowedFeatures: [gpu]\n');
    assert.deepEqual(!bad.ok && bad.errors, [{ path: 'allowedFeatures[0]', message: 'expected one of docker, kata, got "gpu"' }]);
  });

  it('allows images by pattern, as written or fully qualified', () => {
    const p = policy('allowedImages: ["registry.example.com/team/*", "busybox:*", "docker.io/library/alpine:3.*"]\n');
    for (const ok of ['registry.example.com/team/app:1', 'registry.example.com/team/sub/app@sha256:' + 'a'.repeat(64), 'busybox:1.36', 'alpine:3.20', 'docker.io/library/alpine:3.1']) {
      assert.deepEqual(policyErrors(job({ image: ok }), p), [], ok);
    }
    // A short pattern ("busybox:*") matches only what is written short: full patterns cover both.
    for (const bad of ['registry.example.com/other/app:1', 'evil.example.com/registry.example.com/team/x', 'alpine:edge', 'busybox', 'docker.io/library/busybox:1']) {
      const e = policyErrors(job({ image: bad }), p);
      assert.equal(e[0]?.path, 'tasks.t.image', bad);
      assert.match(e[0]?.message ?? '', /refused by the server's policy \(allowedImages: /);
    }
    assert.deepEqual(policyErrors(job({ image: 'anything:at-all' }), DEFAULT_POLICY), []);
  });

  it('caps resources and backends, local tasks included', () => {
    const p = policy('maxResources: {cpu: 2, memory: 1Gi}\nallowedBackends: [docker]\n');
    assert.deepEqual(policyErrors(job({ resources: { cpu: '2000m', memory: '1024Mi' } }), p), []);
    assert.deepEqual(policyErrors(job({ resources: { cpu: 4, memory: '2Gi' } }), p).map((e) => e.message), [
      '4 CPUs: refused by the server\'s policy (maxResources.cpu: 2)',
      '2Gi of memory: refused by the server\'s policy (maxResources.memory: 1Gi)',
    ]);
    assert.deepEqual(policyErrors({ name: 'j', tasks: { t: { command: ['x'], backend: 'local' } } }, p), [
      { path: 'tasks.t.backend', message: 'backend local: refused by the server\'s policy (allowedBackends: ["docker"])' },
    ]);
  });

  it('does not apply to local tasks', () => {
    assert.deepEqual(policyErrors({ name: 'j', tasks: { t: { command: ['x'], backend: 'local' } } }, policy('requireNonRoot: true')), []);
  });

  it('reports a bad policy file with paths', () => {
    const r = parsePolicy('allowPrivileged: "yes"\nallowedCapabilities: [net_admin]\nbogus: 1\n');
    assert.equal(r.ok, false);
    assert.deepEqual(!r.ok && r.errors.map((e) => e.path), ['allowPrivileged', 'allowedCapabilities[0]', 'bogus']);
    assert.deepEqual(parsePolicy(''), { ok: true, policy: DEFAULT_POLICY });
  });
});
