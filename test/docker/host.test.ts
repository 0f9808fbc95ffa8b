// DOCKER_HOST parsing and image references.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DockerHostError, parseDockerHost } from '../../src/docker/host.js';

describe('parseDockerHost', () => {
  it('defaults to /var/run/docker.sock', () => {
    assert.deepEqual(parseDockerHost(undefined, {}), { kind: 'unix', socketPath: '/var/run/docker.sock', url: 'unix:///var/run/docker.sock' });
    assert.deepEqual(parseDockerHost('', {}), parseDockerHost(undefined, {}));
  });

  it('reads unix sockets and tcp hosts', () => {
    assert.deepEqual(parseDockerHost('unix:///run/user/1000/podman/podman.sock', {}),
      { kind: 'unix', socketPath: '/run/user/1000/podman/podman.sock', url: 'unix:///run/user/1000/podman/podman.sock' });
    assert.deepEqual(parseDockerHost('tcp://127.0.0.1:2375', {}), { kind: 'tcp', hostname: '127.0.0.1', port: 2375, url: 'tcp://127.0.0.1:2375' });
    assert.deepEqual(parseDockerHost('tcp://[::1]', {}), { kind: 'tcp', hostname: '::1', port: 2375, url: 'tcp://[::1]' });
  });

  it('uses TLS with the certificates of DOCKER_CERT_PATH when DOCKER_TLS_VERIFY is set', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wharf-certs-'));
    try {
      for (const f of ['ca.pem', 'cert.pem', 'key.pem']) writeFileSync(join(dir, f), f);
      const h = parseDockerHost('tcp://localhost', { DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: dir });
      assert.equal(h.kind === 'tcp' && h.port, 2376);
      assert.equal(h.kind === 'tcp' && h.tls?.ca.toString(), 'ca.pem');
      rmSync(join(dir, 'key.pem'));
      assert.throws(() => parseDockerHost('tcp://localhost', { DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: dir }), /key\.pem cannot be read/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says which schemes it speaks', () => {
    assert.throws(() => parseDockerHost('ssh://me@host', {}), (e: unknown) => e instanceof DockerHostError && /ssh:\/\/ scheme is not supported/.test(e.message));
    assert.throws(() => parseDockerHost('npipe:////./pipe/docker_engine', {}), DockerHostError);
    assert.throws(() => parseDockerHost('unix://relative.sock', {}), /absolute socket path/);
  });
});
