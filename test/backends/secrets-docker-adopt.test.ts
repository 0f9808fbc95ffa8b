// A worker taking over a docker run whose worker died fetches the task's secrets again, so the
// output it stores is masked too; a secret deleted meanwhile makes it stop the run rather than
// store what it cannot mask. Real SQLite store (its clock moved past the lease) and engine.
import { SILENT } from '../../src/core/log.js';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createDockerBackend, type DockerBackend } from '../../src/backends/docker/index.js';
import { LABELS } from '../../src/backends/types.js';
import { DockerEngine } from '../../src/docker/engine.js';
import { SecretBox, storeSecrets } from '../../src/secrets/index.js';
import type { JobView } from '../../src/spec/api.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite/index.js';
import { Worker } from '../../src/worker/worker.js';
import { tempHome } from '../helpers/cli.js';
import { testDocker, type TestDocker } from '../infra/docker.js';

const TOKEN = 'ad0pted-t0ken-value';

describe('secrets when a docker run is taken over', { timeout: 120_000 }, () => {
  let docker: TestDocker;
  let store: SqliteStore;
  let engine: DockerEngine;
  let backend: DockerBackend;
  let box: SecretBox;
  let offset = 0;
  const workers: Worker[] = [];
  let cleanupHome: () => void;

  before(async () => {
    docker = await testDocker();
    const home = tempHome('wharf-secrets-adopt-');
    cleanupHome = home.cleanup;
    store = await openSqliteStore({ path: join(home.dir, 'wharf.db'), now: () => Date.now() + offset });
    box = new SecretBox(randomBytes(32));
    engine = new DockerEngine({ host: docker.host });
    backend = createDockerBackend({ engine, instanceId: store.instanceId });
  });

  after(async () => {
    try {
      for (const w of workers) await w.stop();
      const filters = { label: [`${LABELS.instance}=${store.instanceId}`] };
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

  /** A job whose attempt a worker claimed and started, then died: its lease passes, its run goes on. */
  async function orphan(script: string): Promise<string> {
    await store.admin.putSecret('TOKEN', box.seal('TOKEN', TOKEN));
    offset = 0;
    const job = await store.createJob({ name: 'a', tasks: { t: { image: docker.busybox, command: ['sh', '-c', script], secrets: ['TOKEN'] } } }, { defaultBackend: 'docker' });
    const [claim] = await store.claimAttempts({ workerId: 'dead', backends: ['docker'], leaseMs: 1_000, limit: 1, jobId: job.id });
    assert.ok(claim);
    const started = new Promise<void>((resolve) => {
      const off = backend.subscribe((e) => { if (e.runId === claim.attemptId && e.state.phase === 'running') { off(); resolve(); } });
    });
    await backend.start({
      runId: claim.attemptId,
      labels: { [LABELS.instance]: store.instanceId, [LABELS.job]: job.id, [LABELS.task]: 't', [LABELS.attempt]: '1', [LABELS.attemptId]: claim.attemptId },
      plan: claim.plan, env: {}, secrets: { env: { TOKEN }, files: [] },
    });
    await started;
    offset = 60_000;
    return job.id;
  }

  async function takeOver(jobId: string): Promise<JobView> {
    const ended = new Promise<JobView>((resolve, reject) => {
      const check = (): void => {
        store.getJob(jobId).then((j) => { if (j && ['succeeded', 'failed', 'canceled'].includes(j.state)) { off(); resolve(j); } }, reject);
      };
      const off = store.onChange((c) => { if (c.type === 'events') check(); });
      check();
    });
    const worker = new Worker({ store, backends: [backend], log: SILENT, sweepMs: 50, onlyJob: jobId, secrets: storeSecrets(store.admin, box) });
    workers.push(worker);
    await worker.start();
    const job = await ended;
    await worker.stop();
    return job;
  }

  it('masks the output of the run it took over', async () => {
    const jobId = await orphan('echo "before $TOKEN"; sleep 1; echo "after $TOKEN"');
    const job = await takeOver(jobId);
    assert.equal(job.state, 'succeeded');
    const logs = await store.readLogs({ jobId, limit: 1000 });
    assert.equal(logs.filter((l) => l.stream === 'stdout').map((l) => l.text).join(''), 'before ***\nafter ***\n');
    assert.ok(!JSON.stringify(logs).includes(TOKEN));
  });

  it('stops a run whose secret was deleted meanwhile, rather than store its output unmasked', async () => {
    const jobId = await orphan('echo "$TOKEN"; sleep 100');
    await store.admin.deleteSecret('TOKEN');
    const job = await takeOver(jobId);
    assert.deepEqual(job.tasks[0]?.attempts[0]?.outcome, {
      kind: 'error',
      reason: 'the run cannot be taken over: secret TOKEN does not exist (any more): wharf secret set TOKEN',
    });
    const logs = await store.readLogs({ jobId, limit: 1000 });
    assert.deepEqual(logs.map((l) => l.stream), ['system']);
    const left = await engine.request<{ State: string }[]>('GET', '/containers/json', { query: { all: true, filters: { label: [`${LABELS.job}=${jobId}`] } } });
    assert.deepEqual(left, [], 'the run is stopped and removed');
  });
});
