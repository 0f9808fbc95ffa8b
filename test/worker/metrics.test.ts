// The worker's reports in prom-client metrics: a real local task, and a backend that fails.
import { SILENT } from '../../src/core/log.js';
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createLocalBackend } from '../../src/backends/local/index.js';
import type { Backend } from '../../src/backends/types.js';
import { createMetrics, type WharfMetrics } from '../../src/metrics/index.js';
import type { JobView } from '../../src/spec/api.js';
import type { JobSpec } from '../../src/spec/schema.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite/index.js';
import { Worker } from '../../src/worker/worker.js';
import { tempHome } from '../helpers/cli.js';
import { parseExposition, valueOf, type Sample } from '../helpers/prometheus.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Runs one job to its end on a worker reporting to fresh metrics. */
type Ran = { job: JobView; metrics: WharfMetrics; store: SqliteStore };

async function runJob(spec: JobSpec, wrap: (b: Backend) => Backend = (b) => b): Promise<Ran> {
  const home = tempHome('wharf-metrics-');
  cleanups.push(home.cleanup);
  const store = await openSqliteStore({ path: join(home.dir, 'wharf.db') });
  cleanups.push(() => store.close());
  const backend = createLocalBackend({ stateDir: home.dir, instanceId: store.instanceId });
  const metrics = createMetrics({ store, backends: ['local'] });
  const worker = new Worker({ store, backends: [wrap(backend)], log: SILENT, metrics: metrics.worker });
  cleanups.push(async () => { await worker.stop(); await backend.close(); });
  const created = await store.createJob(spec, { defaultBackend: 'local' });
  const ended = new Promise<JobView>((resolve, reject) => {
    const check = (): void => {
      store.getJob(created.id).then((j) => {
        if (j && ['succeeded', 'failed', 'canceled'].includes(j.state)) { off(); resolve(j); }
      }, reject);
    };
    const off = store.onChange((c) => { if (c.type === 'events') check(); });
  });
  await worker.start();
  const job = await ended;
  // Stopped, so every runner has finished reporting (the outcome is stored before the run is removed).
  await worker.stop();
  return { job, metrics, store };
}

async function scrape(m: WharfMetrics): Promise<Sample[]> {
  return parseExposition((await m.scrape()).body);
}

test('a local task that exits 3 is claimed, ended `exited`, timed and its output counted', async () => {
  const { job, metrics, store } = await runJob({ name: 'm', tasks: { t: { command: ['sh', '-c', 'echo hello; echo oops >&2; exit 3'] } } });
  assert.equal(job.state, 'failed');
  const s = await scrape(metrics);
  const local = { backend: 'local' };
  const exited = { backend: 'local', outcome: 'exited' };
  assert.equal(valueOf(s, 'wharf_claims_total', local), 1);
  assert.equal(valueOf(s, 'wharf_attempts_ended_total', exited), 1);
  assert.equal(valueOf(s, 'wharf_attempts_ended_total', { backend: 'local', outcome: 'succeeded' }), 0);
  assert.equal(valueOf(s, 'wharf_attempt_duration_seconds_count', exited), 1);
  const seconds = valueOf(s, 'wharf_attempt_duration_seconds_sum', exited);
  assert.ok(seconds > 0 && seconds < 10, `${seconds}`);
  assert.equal(valueOf(s, 'wharf_attempt_duration_seconds_bucket', { ...exited, le: '3600' }), 1);
  assert.equal(valueOf(s, 'wharf_attempt_duration_seconds_bucket', { ...exited, le: '+Inf' }), 1);
  assert.equal(valueOf(s, 'wharf_log_bytes_total', { stream: 'stdout' }), 'hello\n'.length);
  assert.equal(valueOf(s, 'wharf_log_bytes_total', { stream: 'stderr' }), 'oops\n'.length);
  assert.equal(valueOf(s, 'wharf_backend_errors_total', { backend: 'local', op: 'start' }), 0);
  assert.equal(valueOf(s, 'wharf_leases_lost_total'), 0);
  assert.equal(valueOf(s, 'wharf_jobs', { state: 'failed' }), 1);
  assert.equal(valueOf(s, 'wharf_tasks', { state: 'failed' }), 1);

  // Each runtime keeps its own registry: another over the same store sees the store's gauges
  // but none of this worker's counts.
  const other = await scrape(createMetrics({ store, backends: ['local'] }));
  assert.equal(valueOf(other, 'wharf_claims_total', local), 0);
  assert.equal(valueOf(other, 'wharf_jobs', { state: 'failed' }), 1);
});

test('a backend that fails to start counts a backend error and an `error` outcome', async () => {
  const failing = (b: Backend): Backend => {
    const w: Backend = Object.create(b) as Backend;
    w.start = async () => { throw new Error('the engine is down'); };
    return w;
  };
  const { job, metrics } = await runJob({ name: 'down', tasks: { t: { command: ['true'] } } }, failing);
  assert.deepEqual(job.tasks[0]?.attempts[0]?.outcome, { kind: 'error', reason: 'the engine is down' });
  const s = await scrape(metrics);
  assert.equal(valueOf(s, 'wharf_backend_errors_total', { backend: 'local', op: 'start' }), 1);
  assert.equal(valueOf(s, 'wharf_attempts_ended_total', { backend: 'local', outcome: 'error' }), 1);
});
