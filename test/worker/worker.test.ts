// The worker against the real SQLite store and the real local backend.
import { SILENT } from '../../src/core/log.js';
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLocalBackend, type LocalBackend } from '../../src/backends/local/index.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite/index.js';
import type { JobSpec } from '../../src/spec/schema.js';
import type { JobView } from '../../src/spec/api.js';
import { NO_METRICS, type WorkerMetrics } from '../../src/worker/metrics.js';
import { Worker, type WorkerOptions } from '../../src/worker/worker.js';
import { tempHome } from '../helpers/cli.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Setup {
  store: SqliteStore;
  worker: Worker;
  backend: LocalBackend;
  dir: string;
  newWorker: (o?: Partial<WorkerOptions>) => { worker: Worker; backend: LocalBackend };
}

async function setup(opts: Partial<WorkerOptions> = {}, now?: () => number): Promise<Setup> {
  const home = tempHome('wharf-worker-');
  cleanups.push(home.cleanup);
  const store = await openSqliteStore({ path: join(home.dir, 'wharf.db'), ...(now ? { now } : {}) });
  cleanups.push(() => store.close());
  const newWorker = (o: Partial<WorkerOptions> = {}): { worker: Worker; backend: LocalBackend } => {
    const backend = createLocalBackend({ stateDir: home.dir, instanceId: store.instanceId });
    const worker = new Worker({ store, backends: [backend], log: SILENT, ...opts, ...o });
    cleanups.push(async () => { await worker.stop(); await backend.close(); });
    return { worker, backend };
  };
  return { store, ...newWorker(), dir: home.dir, newWorker };
}

/** Resolves when the job ends (woken by the store's nudges, never by polling). */
function ended(store: SqliteStore, id: string): Promise<JobView> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      store.getJob(id).then((j) => {
        if (j && ['succeeded', 'failed', 'canceled'].includes(j.state)) { off(); resolve(j); }
      }, reject);
    };
    const off = store.onChange((c) => { if (c.type === 'events') check(); });
    check();
  });
}

function sh(script: string, extra: Partial<JobSpec['tasks'][string]> = {}): JobSpec['tasks'][string] {
  return { command: ['sh', '-c', script], ...extra };
}

test('honours the concurrency limit', async () => {
  const { store, worker, dir } = await setup({ concurrency: 2 });
  const running = join(dir, 'running');
  const seen = join(dir, 'seen');
  mkdirSync(running);
  mkdirSync(seen);
  const tasks: JobSpec['tasks'] = {};
  for (let i = 0; i < 6; i++) {
    tasks[`t${i}`] = sh(`touch ${running}/$WHARF_TASK; ls ${running} | wc -l > ${seen}/$WHARF_TASK; sleep 0.2; rm ${running}/$WHARF_TASK`);
  }
  const job = await store.createJob({ name: 'limit', tasks }, { defaultBackend: 'local' });
  await worker.start();
  const end = await ended(store, job.id);
  assert.equal(end.state, 'succeeded');
  const counts = readdirSync(seen).map((f) => Number(readFileSync(join(seen, f), 'utf8').trim()));
  assert.equal(counts.length, 6);
  assert.ok(Math.max(...counts) <= 2, `at most 2 at once, saw ${counts.join(',')}`);
});

test('drain lets running attempts finish before the deadline', async () => {
  const { store, worker } = await setup();
  const job = await store.createJob({ name: 'drain', tasks: { a: sh('sleep 0.3; echo done') } }, { defaultBackend: 'local' });
  await worker.start();
  await new Promise<void>((resolve) => { const off = store.onChange((c) => { if (c.type === 'logs' || c.type === 'events') { off(); resolve(); } }); });
  await worker.drain(10_000);
  const j = await store.getJob(job.id);
  assert.equal(j?.state, 'succeeded');
});

test('drain stops what does not finish by the deadline; the attempt is retried per policy', async () => {
  const { store, worker, newWorker } = await setup({ graceMs: 100 });
  const job = await store.createJob({ name: 'drain', tasks: { a: sh('echo up; sleep 100', { retries: { limit: 1, backoff: { initial: '10ms' } } }) } }, { defaultBackend: 'local' });
  await worker.start();
  await new Promise<void>((resolve) => { const off = store.onChange((c) => { if (c.type === 'logs') { off(); resolve(); } }); });
  await worker.drain(50);
  let j = await store.getJob(job.id);
  assert.deepEqual(j?.tasks[0]?.attempts[0]?.outcome, { kind: 'canceled', reason: 'the worker is shutting down' });
  assert.equal(j?.tasks[0]?.state, 'retrying');
  // The retry runs on the next worker (and is stopped by the test's cleanup).
  const next = newWorker().worker;
  await next.start();
  await new Promise<void>((resolve) => { const off = store.onChange((c) => { if (c.type === 'logs') { off(); resolve(); } }); });
  j = await store.getJob(job.id);
  assert.equal(j?.tasks[0]?.attempts[1]?.state, 'running');
});

test('a worker whose lease passed stops its run and writes nothing more; another marks it lost', async () => {
  let offset = 0;
  const stale = { leases: 0, lost: 0 };
  const sweeper = { leases: 0, lost: 0 };
  const counting = (n: typeof stale): WorkerMetrics => ({ ...NO_METRICS, leaseLost: () => { n.leases++; }, attemptLost: () => { n.lost++; } });
  const { store, worker, backend, dir, newWorker } = await setup(
    { leaseMs: 60_000, heartbeatMs: 50, sweepMs: 60_000, metrics: counting(stale) }, () => Date.now() + offset);
  const pidFile = join(dir, 'pid');
  const job = await store.createJob({ name: 'stale', tasks: { a: sh(`echo $$ > ${pidFile}; echo up; sleep 100`) } }, { defaultBackend: 'local' });
  await worker.start();
  await new Promise<void>((resolve) => { const off = store.onChange((c) => { if (c.type === 'logs') { off(); resolve(); } }); });
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  const killed = new Promise<void>((resolve) => {
    const off = backend.subscribe((e) => { if (e.state.phase === 'ended') { off(); resolve(); } });
  });
  offset = 120_000; // the store's clock jumps past the lease: the next heartbeat is refused
  await killed;
  assert.ok(!processAlive(pid));
  assert.equal((await store.getJob(job.id))?.tasks[0]?.attempts[0]?.state, 'running', 'the stale worker recorded nothing');
  const other = newWorker({ sweepMs: 50, metrics: counting(sweeper) }).worker;
  await other.start();
  const end = await ended(store, job.id);
  assert.deepEqual(end.tasks[0]?.attempts[0]?.outcome, { kind: 'lost', reason: 'worker lost' });
  await worker.stop(); // waits for its runner to give up
  assert.deepEqual({ stale, sweeper }, { stale: { leases: 1, lost: 0 }, sweeper: { leases: 0, lost: 1 } });
});

function processAlive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

test('a lost attempt that left no run still has its run id removed (what a half-made start left)', async () => {
  let offset = 0;
  const { store, newWorker } = await setup({}, () => Date.now() + offset);
  const job = await store.createJob({ name: 'half', tasks: { a: sh('true') } }, { defaultBackend: 'local' });
  // A worker that claimed it and died before its run existed.
  const [claim] = await store.claimAttempts({ workerId: 'dead', backends: ['local'], leaseMs: 1_000, limit: 1 });
  assert.ok(claim);
  offset = 60_000;
  const { worker, backend } = newWorker({ sweepMs: 50 });
  const removed: string[] = [];
  const remove = backend.remove.bind(backend);
  backend.remove = async (runId) => { removed.push(runId); await remove(runId); };
  await worker.start();
  const end = await ended(store, job.id);
  assert.deepEqual(end.tasks[0]?.attempts[0]?.outcome, { kind: 'lost', reason: 'worker lost' });
  assert.ok(removed.includes(claim.attemptId), JSON.stringify(removed));
});
