import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { containerOptions } from '../../src/cli/runtime-config.js';

describe('containerOptions', () => {
  it('takes flags over the environment, and the environment for the in-process CLI', () => {
    const o = containerOptions({ builder: 'kaniko', registryPush: 'localhost:5000/wharf', kanikoFlag: ['--snapshot-mode=redo'], kanikoCacheRepo: 'localhost:5000/cache' },
      { WHARF_BUILDER: 'docker', WHARF_REGISTRY_PULL: '127.0.0.1:5000/wharf', WHARF_KUBECONFIG: '/k', WHARF_NAMESPACE: 'ci' });
    assert.equal(o.builder, 'kaniko');
    assert.deepEqual(o.registry, { push: 'localhost:5000/wharf', pull: '127.0.0.1:5000/wharf' });
    assert.deepEqual(o.kaniko, { cacheRepo: 'localhost:5000/cache', extraFlags: ['--snapshot-mode=redo'] });
    assert.deepEqual(o.kubernetes, { kubeconfig: '/k', namespace: 'ci' });
    const k = containerOptions({ pendingTimeout: '90s', dockerSidecarImage: 'mirror/docker:dind-rootless', kataRuntimeClass: 'kata-fc' }, {}).kubernetes;
    assert.deepEqual(k, { pendingTimeoutMs: 90_000, dockerSidecarImage: 'mirror/docker:dind-rootless', kataRuntimeClass: 'kata-fc' });
  });

  it('refuses what cannot work, naming the flag', () => {
    assert.throws(() => containerOptions({ builder: 'podman' }, {}), /--builder \(WHARF_BUILDER\): expected one of docker, buildah, kaniko, none, got "podman"/);
    assert.throws(() => containerOptions({ registryPull: 'x/y' }, {}), /need --registry-push/);
    assert.throws(() => containerOptions({ kanikoFlag: ['rm -rf /'] }, {}), /--kaniko-flag: expected an executor flag/);
    assert.throws(() => containerOptions({ pendingTimeout: 'soon' }, {}), /--pending-timeout: expected a duration such as "30s", got "soon"/);
    assert.throws(() => containerOptions({}, { WHARF_KUBERNETES: 'maybe' }), /--kubernetes \(WHARF_KUBERNETES\): expected one of auto, on, off/);
  });
});
