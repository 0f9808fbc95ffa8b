// Secrets on the docker backend, through the worker and the real SQLite store on the test run's
// engine: env and files reach the container (files 0400, owned by the task's user, on a read-only
// root), and the stored logs show neither. Also the create body for them, without an engine.
import { SILENT } from '../../src/core/log.js';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createDockerBackend, type DockerBackend } from '../../src/backends/docker/index.js';
import { createBody, volumeTargets } from '../../src/backends/docker/create-options.js';
import { DockerEngine } from '../../src/docker/engine.js';
import { SecretBox, storeSecrets } from '../../src/secrets/index.js';
import type { JobView, LogEntry } from '../../src/spec/api.js';
import type { JobSpec } from '../../src/spec/schema.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite/index.js';
import { Worker } from '../../src/worker/worker.js';
import { tempHome } from '../helpers/cli.js';
import { testDocker, type TestDocker } from '../infra/docker.js';
import { req } from './local-helpers.js';

const TOKEN = 'tok3n-V@lue/+ x';
const KEY = 'k3y-0f-the-app\nsecond line';

describe('secrets on the docker backend (worker + store + engine)', { timeout: 120_000 }, () => {
  let docker: TestDocker;
  let store: SqliteStore;
  let engine: DockerEngine;
  let backend: DockerBackend;
  let worker: Worker;
  let cleanupHome: () => void;

  before(async () => {
    docker = await testDocker();
    const home = tempHome('wharf-secrets-docker-');
    cleanupHome = home.cleanup;
    store = await openSqliteStore({ path: join(home.dir, 'wharf.db') });
    const box = new SecretBox(randomBytes(32));
    await store.admin.putSecret('TOKEN', box.seal('TOKEN', TOKEN));
    await store.admin.putSecret('KEY', box.seal('KEY', KEY));
    engine = new DockerEngine({ host: docker.host });
    backend = createDockerBackend({ engine, instanceId: store.instanceId });
    worker = new Worker({ store, backends: [backend], log: SILENT, secrets: storeSecrets(store.admin, box) });
    await worker.start();
  });

  after(async () => {
    try {
      await worker?.stop();
      const filters = { label: [`wharf.dev/instance=${store.instanceId}`] };
      for (const c of await engine.request<{ Id: string }[]>('GET', '/containers/json', { query: { all: true, filters } })) {
        await engine.request('DELETE', `/containers/${c.Id}`, { query: { force: true, v: true } }).catch(() => undefined);
      }
    } finally {
      await backend?.close();
      engine?.close();
      await store?.close();
      cleanupHome?.();
    }
  });

  async function run(task: JobSpec['tasks'][string]): Promise<{ job: JobView; logs: LogEntry[] }> {
    const created = await store.createJob({ name: 's', tasks: { t: { image: docker.busybox, ...task } } }, { defaultBackend: 'docker' });
    const job = await new Promise<JobView>((resolve, reject) => {
      const check = (): void => {
        store.getJob(created.id).then((j) => {
          if (j && ['succeeded', 'failed', 'canceled'].includes(j.state)) { off(); resolve(j); }
        }, reject);
      };
      const off = store.onChange((c) => { if (c.type === 'events') check(); });
      check();
    });
    return { job, logs: await store.readLogs({ jobId: job.id, limit: 10_000 }) };
  }
  const text = (logs: LogEntry[], stream: string): string => logs.filter((l) => l.stream === stream).map((l) => l.text).join('');

  it('gives env and files to a non-root task, files 0400 and its own, and masks them in the stored logs', async () => {
    const script = [
      'echo "env=$TOKEN"',
      'cat /run/secrets/token; echo',
      '[ "$(cat /run/secrets/token)" = "$TOKEN" ] && echo same-token',
      `[ "$(cat /etc/app/key)" = "$(printf '${KEY.replace('\n', '\\n')}')" ] && echo same-key`,
      'ls -ln /run/secrets/token /etc/app/key',
      'touch /etc/x 2>/dev/null || echo read-only-root',
    ].join('\n');
    const { job, logs } = await run({
      command: ['sh', '-c', script], user: '65534',
      secrets: ['TOKEN', { name: 'TOKEN', file: '/run/secrets/token' }, { name: 'KEY', file: '/etc/app/key' }],
    });
    const out = text(logs, 'stdout');
    assert.equal(job.state, 'succeeded', out + text(logs, 'system'));
    const lines = out.split('\n');
    assert.deepEqual(lines.slice(0, 3), ['env=***', '***', 'same-token']);
    assert.equal(lines[3], 'same-key');
    const modes = lines.filter((l) => l.startsWith('-')).map((l) => l.split(/\s+/).slice(0, 4).join(' '));
    assert.deepEqual(modes, ['-r-------- 1 65534 65534', '-r-------- 1 65534 65534']);
    assert.ok(lines.includes('read-only-root'));
    const all = JSON.stringify(logs);
    for (const v of [TOKEN, KEY, 'k3y-0f-the-app', Buffer.from(TOKEN).toString('base64')]) assert.ok(!all.includes(v), 'no value in the stored logs');
  });

  it('puts a file straight into a writable root, and refuses / on a read-only one', async () => {
    const ok = await run({ command: ['sh', '-c', 'ls -ln /token | cut -c1-10; id -u'], writableRootfs: true, secrets: [{ name: 'TOKEN', file: '/token' }] });
    assert.equal(text(ok.logs, 'stdout'), '-r--------\n0\n');
    const refused = await run({ command: ['true'], secrets: [{ name: 'TOKEN', file: '/token' }] });
    assert.deepEqual(refused.job.tasks[0]?.attempts[0]?.outcome, {
      kind: 'start_failed',
      reason: 'secret file /token: a file directly in / needs writableRootfs; put it in a directory of its own (e.g. /run/secrets/token)',
    });
  });
});

describe('docker create body with secrets', () => {
  const cfg = { pidsLimit: 100, tmpfsBytes: 1 << 20 };

  it('sets secret variables after the task\'s, and a volume at each secret file\'s directory', () => {
    const r = { ...req('r1', ['true'], { env: { A: '1' }, plan: { image: 'busybox' } }), secrets: { env: { S: 'value-s' }, files: [{ path: '/run/s/a', value: 'x' }, { path: '/run/s/b', value: 'y' }, { path: '/run/s/d/c', value: 'z' }, { path: '/tmp/k', value: 'w' }] } };
    const built = createBody(r, cfg);
    assert.ok('body' in built);
    assert.deepEqual(built.body.Env, ['A=1', 'S=value-s']);
    assert.deepEqual(built.body.HostConfig.Mounts.map((m) => m.Target), ['/tmp', '/run/s']); // shallowest first
    assert.deepEqual(built.body.HostConfig.Tmpfs, {}, 'the /tmp volume replaces the tmpfs, which would hide the file');
    assert.ok(!JSON.stringify(built.body).includes('"x"'));
    assert.deepEqual(volumeTargets({}, ['/a/b/c']), ['/a/b']);
  });
});
