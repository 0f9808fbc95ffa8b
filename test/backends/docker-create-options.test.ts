// The container a run asks for: hardened unless the task says otherwise. Pure, no engine.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OWN_LABELS, createBody, volumeTargets, type ContainerCreateBody, type CreateConfig } from '../../src/backends/docker/create-options.js';
import type { StartRequest } from '../../src/backends/types.js';
import type { TaskPlan } from '../../src/spec/plan.js';

const cfg: CreateConfig = { pidsLimit: 1024, tmpfsBytes: 64 * 1024 * 1024, logDriver: 'local' };

function req(plan: Partial<TaskPlan> = {}, env: Record<string, string> = {}): StartRequest {
  return {
    runId: 'r1',
    labels: { 'wharf.dev/instance': 'i1', 'wharf.dev/job': 'j1' },
    env,
    plan: { name: 't', command: ['sh', '-c', 'echo hi'], image: 'busybox:1', env: {}, needs: [], retry: { limit: 0, initialMs: 1, factor: 2, maxMs: 1 }, ...plan },
  };
}

function body(plan: Partial<TaskPlan> = {}, env: Record<string, string> = {}): ContainerCreateBody {
  const r = createBody(req(plan, env), cfg);
  if ('error' in r) throw new Error(r.error);
  return r.body;
}

describe('docker create options', () => {
  it('is hardened by default', () => {
    const b = body();
    assert.deepEqual(b.HostConfig.CapDrop, ['ALL']);
    assert.deepEqual(b.HostConfig.CapAdd, []);
    assert.deepEqual(b.HostConfig.SecurityOpt, ['no-new-privileges']);
    assert.equal(b.HostConfig.Privileged, false);
    assert.equal(b.HostConfig.ReadonlyRootfs, true);
    assert.deepEqual(b.HostConfig.Tmpfs, { '/tmp': `rw,nosuid,nodev,size=${64 * 1024 * 1024}` });
    assert.equal(b.HostConfig.PidsLimit, 1024);
    assert.equal(b.HostConfig.NetworkMode, 'none');
    assert.equal(b.HostConfig.AutoRemove, false);
    assert.equal(b.HostConfig.Init, false);
    assert.equal(b.Tty, false);
    assert.equal(b.User, undefined);
    assert.equal(b.HostConfig.Memory, undefined);
    assert.deepEqual(b.HostConfig.Mounts, []);
  });

  it('runs the command as the whole argv, never behind the image\'s entrypoint', () => {
    const b = body({ command: ['/bin/prog', 'a b', ''] });
    assert.deepEqual([b.Entrypoint, b.Cmd], [['/bin/prog'], ['a b', '']]);
  });

  it('maps each task option', () => {
    const b = body({
      image: '127.0.0.1:5000/app@sha256:' + 'a'.repeat(64), user: '1000:1000', workingDir: '/work', network: 'host',
      capabilities: ['NET_BIND_SERVICE', 'CHOWN'], writableRootfs: true, resources: { cpu: 1.5, memoryBytes: 256 * 1024 * 1024 },
    }, { A: '1', B: 'x=y', EMPTY: '' });
    assert.equal(b.Image, '127.0.0.1:5000/app@sha256:' + 'a'.repeat(64));
    assert.equal(b.User, '1000:1000');
    assert.equal(b.WorkingDir, '/work');
    assert.equal(b.HostConfig.NetworkMode, 'host');
    assert.deepEqual(b.HostConfig.CapDrop, ['ALL']);
    assert.deepEqual(b.HostConfig.CapAdd, ['NET_BIND_SERVICE', 'CHOWN']);
    assert.equal(b.HostConfig.ReadonlyRootfs, false);
    assert.equal(b.HostConfig.NanoCpus, 1_500_000_000);
    assert.equal(b.HostConfig.Memory, 256 * 1024 * 1024);
    assert.equal(b.HostConfig.MemorySwap, 256 * 1024 * 1024);
    assert.deepEqual(b.Env, ['A=1', 'B=x=y', 'EMPTY=']);
    assert.equal(b.HostConfig.Privileged, false);
  });

  it('is privileged only when asked', () => {
    assert.equal(body({ privileged: true }).HostConfig.Privileged, true);
    assert.equal(body({ privileged: false }).HostConfig.Privileged, false);
  });

  it('carries the run\'s labels, its id, and its outputs for whoever adopts it', () => {
    const outputs = [{ from: '/out', to: '/host/out' }];
    const b = body({ outputs });
    assert.equal(b.Labels['wharf.dev/job'], 'j1');
    assert.equal(b.Labels[OWN_LABELS.runId], 'r1');
    assert.deepEqual(JSON.parse(b.Labels[OWN_LABELS.outputs] ?? ''), outputs);
    assert.equal(body().Labels[OWN_LABELS.outputs], undefined);
  });

  it('sets the log driver only when told one', () => {
    assert.deepEqual(body().HostConfig.LogConfig, { Type: 'local', Config: {} });
    const r = createBody(req(), { ...cfg, logDriver: undefined });
    assert.ok('body' in r && r.body.HostConfig.LogConfig === undefined);
  });

  it('refuses a run without a command or an image', () => {
    assert.deepEqual(createBody(req({ command: [] }), cfg), { error: 'no command given' });
    assert.match((createBody(req({ image: undefined }), cfg) as { error: string }).error, /no image given/);
  });

  it('gives inputs and outputs volumes where the rootfs cannot hold them', () => {
    const inputs = [{ from: '/h/a', to: '/in' }, { from: '/h/b', to: '/in/deeper' }, { from: '/h/c', to: '/tmp/x/' }];
    const outputs = [{ from: '/out', to: '/h/out' }, { from: '/in/result', to: '/h/r' }];
    assert.deepEqual(volumeTargets({ inputs, outputs }), ['/in', '/out', '/tmp/x']);
    // A writable rootfs holds them all but what is under the tmpfs on /tmp.
    assert.deepEqual(volumeTargets({ writableRootfs: true, inputs, outputs }), ['/tmp/x']);
    const b = body({ inputs, outputs });
    assert.deepEqual(b.HostConfig.Mounts.map((m) => m.Target), ['/in', '/out', '/tmp/x']);
    assert.equal(b.HostConfig.Mounts[0]?.VolumeOptions.Labels['wharf.dev/instance'], 'i1');
  });

  it('drops the tmpfs when /tmp itself is an output, and refuses / on a read-only rootfs', () => {
    assert.deepEqual(body({ outputs: [{ from: '/tmp', to: '/h' }] }).HostConfig.Tmpfs, {});
    assert.match((createBody(req({ inputs: [{ from: '/h', to: '/' }] }), cfg) as { error: string }).error, /set writableRootfs/);
    assert.deepEqual(body({ writableRootfs: true, inputs: [{ from: '/h', to: '/' }] }).HostConfig.Mounts, []);
  });
});
