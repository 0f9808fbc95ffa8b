import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { place, type PlacementOptions } from '../../src/spec/placement.js';
import type { JobSpec, TaskSpec } from '../../src/spec/schema.js';

const all: PlacementOptions = { defaultBackend: 'local', available: ['local', 'docker'] };
const job = (tasks: Record<string, TaskSpec>): JobSpec => ({ name: 'j', tasks });

describe('place', () => {
  it('sends tasks with an image or a build to a container backend, others to the default', () => {
    const r = place(job({
      a: { command: ['x'] }, b: { command: ['x'], image: 'busybox' }, c: { command: ['x'], build: { context: '/ctx' } },
      d: { command: ['x'], image: 'busybox', backend: 'kubernetes' },
    }), { defaultBackend: 'local', available: ['local', 'docker', 'kubernetes'] });
    assert.deepEqual(Object.values(r.spec.tasks).map((t) => t.backend), ['local', 'docker', 'docker', 'kubernetes']);
    assert.deepEqual(r.errors, []);
    assert.equal(place(job({ b: { command: ['x'], image: 'i' } }), { defaultBackend: 'local', available: ['local', 'kubernetes'] }).spec.tasks.b?.backend, 'kubernetes');
  });

  it('refuses container fields on the local backend, naming each', () => {
    const r = place(job({ a: { command: ['x'], backend: 'local', image: 'i', privileged: true } }), all);
    assert.deepEqual(r.errors, [
      { path: 'tasks.a.image', message: 'only container backends (docker, kubernetes) use image; this task runs on the local backend' },
      { path: 'tasks.a.privileged', message: 'only container backends (docker, kubernetes) use privileged; this task runs on the local backend' },
    ]);
  });

  it('asks container tasks for an image and absolute host paths without ".."', () => {
    const r = place(job({
      a: { command: ['x'], backend: 'docker' },
      b: { command: ['x'], build: { context: 'ctx' }, inputs: [{ from: '/data/../etc', to: '/in' }], outputs: [{ from: '/out', to: 'out' }] },
    }), all);
    assert.deepEqual(r.errors.map((e) => e.path), ['tasks.a.image', 'tasks.b.build.context', 'tasks.b.inputs[0].from', 'tasks.b.outputs[0].to']);
    assert.match(r.errors[1]?.message ?? '', /expected an absolute path on the worker's host, got "ctx" \(the CLI resolves paths relative to the job file\)/);
    assert.match(r.errors[2]?.message ?? '', /without "\.\." segments/);
  });

  it('asks for a numeric user on kubernetes', () => {
    const r = place(job({ a: { command: ['x'], image: 'i', backend: 'kubernetes', user: 'nobody' }, b: { command: ['x'], image: 'i', backend: 'kubernetes', user: '1000:1000' } }),
      { defaultBackend: 'local', available: ['local', 'kubernetes'] });
    assert.deepEqual(r.errors.map((e) => e.path), ['tasks.a.user']);
  });

  it('takes features on kubernetes only', () => {
    const r = place(job({
      a: { command: ['x'], image: 'i', backend: 'kubernetes', features: ['docker'] },
      b: { command: ['x'], image: 'i', backend: 'docker', features: ['kata'] },
      c: { command: ['x'], backend: 'local', features: ['kata'] },
    }), { defaultBackend: 'local', available: ['local', 'docker', 'kubernetes'] });
    assert.deepEqual(r.errors, [
      { path: 'tasks.b.features', message: 'features are pod additions: only the kubernetes backend has them' },
      { path: 'tasks.c.features', message: 'only container backends (docker, kubernetes) use features; this task runs on the local backend' },
    ]);
  });

  it('puts each secret somewhere of its own, files only in containers', () => {
    const r = place(job({
      a: { command: ['x'], backend: 'local', env: { TOKEN: 'x' }, secrets: ['TOKEN', { name: 'KEY', file: '/run/key' }, { name: 'B', env: 'BE' }, { name: 'C', env: 'BE' }] },
      b: { command: ['x'], image: 'i', backend: 'docker', secrets: [{ name: 'K1', file: '/run/k' }, { name: 'K2', file: '/run/k' }] },
    }), all);
    assert.deepEqual(r.errors, [
      { path: 'tasks.a.secrets[0]', message: 'the environment variable TOKEN is set twice (by env or another secret)' },
      { path: 'tasks.a.secrets[1].file', message: 'secret files need a container backend (docker, kubernetes); on the local backend use env' },
      { path: 'tasks.a.secrets[3]', message: 'the environment variable BE is set twice (by env or another secret)' },
      { path: 'tasks.b.secrets[1].file', message: '"/run/k" is already another secret\'s file' },
    ]);
  });

  it('refuses a backend this installation does not have', () => {
    const r = place(job({ a: { command: ['x'], image: 'i', backend: 'kubernetes' } }), all);
    assert.deepEqual(r.errors, [{ path: 'tasks.a.backend', message: 'the kubernetes backend is not available here (available: local, docker)' }]);
  });
});
