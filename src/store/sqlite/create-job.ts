// createJob: the job, its tasks and its first attempts, in one transaction.
import { jobSnapshot, type TaskSnapshot } from '../../core/job-machine.js';
import type { JobView } from '../../spec/api.js';
import { jobPlan } from '../../spec/plan.js';
import type { BackendName, JobSpec } from '../../spec/schema.js';
import { apply, type LoadedJob } from './apply.js';
import { Query, type Tx } from './db.js';
import { addEvent } from './events.js';
import { newJobId } from './ids.js';
import { getJobView } from './views.js';
import type { StoreResult } from '../types.js';

const INSERT_JOB = new Query((k, $: { id: string; name: string; labels: string; spec: string; now: number; key: string | null }) =>
  k.insertInto('jobs').values({
    id: $.id, name: $.name, labels: $.labels, state: 'queued', cancel_requested: 0, spec: $.spec,
    created_at: $.now, updated_at: $.now, ended_at: null, idempotency_key: $.key,
  }));

const BY_KEY = new Query((k, $: { key: string }) => k.selectFrom('jobs').select(['id', 'spec']).where('idempotency_key', '=', $.key));

/** The job of a key seen before (the write lock makes check-then-insert atomic), or a new one. */
export function createJobOnce(tx: Tx, spec: JobSpec, defaultBackend: BackendName, key: string): StoreResult<{ job: JobView; created: boolean }> {
  const row = tx.sql.get(BY_KEY, { key });
  if (!row) return { ok: true, value: { job: createJob(tx, spec, defaultBackend, key), created: true } };
  if (row.spec !== JSON.stringify(spec)) return { ok: false, error: { code: 'conflict', message: keyConflict(key, row.id) } };
  const job = getJobView(tx.sql, row.id);
  if (!job) throw new Error(`job ${row.id} vanished`);
  return { ok: true, value: { job, created: false } };
}

export function keyConflict(key: string, jobId: string): string {
  return `the idempotency key ${JSON.stringify(key)} was used for job ${jobId}, submitted with another job file: use a new key for a new job`;
}

type TaskRow = { jobId: string; name: string; position: number; needs: string; retry: string; plan: string; backend: BackendName };
const INSERT_TASK = new Query((k, $: TaskRow) =>
  k.insertInto('tasks').values({
    job_id: $.jobId, name: $.name, position: $.position, state: 'pending', needs: $.needs, retry: $.retry, plan: $.plan,
    attempts: 0, attempts_base: 0, backend: $.backend,
  }));

export function createJob(tx: Tx, spec: JobSpec, defaultBackend: BackendName, key: string | null = null): JobView {
  const plans = jobPlan(spec);
  const id = newJobId(tx.now);
  tx.sql.run(INSERT_JOB, { id, name: spec.name, labels: JSON.stringify(spec.labels ?? {}), spec: JSON.stringify(spec), now: tx.now, key });
  addEvent(tx, id, { type: 'job_state', from: null, to: 'queued' });

  const snapshots = new Map<string, TaskSnapshot>();
  const backends = new Map<string, BackendName>();
  plans.forEach((p, position) => {
    const backend = p.backend ?? defaultBackend;
    tx.sql.run(INSERT_TASK, {
      jobId: id, name: p.name, position, needs: JSON.stringify(p.needs), retry: JSON.stringify(p.retry), plan: JSON.stringify(p), backend,
    });
    addEvent(tx, id, { type: 'task_state', task: p.name, from: null, to: 'pending' });
    snapshots.set(p.name, { state: 'pending', needs: p.needs, retry: p.retry, attempts: 0, attemptsBase: 0 });
    backends.set(p.name, backend);
  });

  // The snapshot is what was just inserted (rev 0, the column's default); no need to read it back.
  const job: LoadedJob = { id, rev: 0, snapshot: jobSnapshot(snapshots), backends };
  const t = apply(tx, job, { type: 'created' });
  if (!t.ok) throw new Error(`job ${id}: ${t.message}`);
  const view = getJobView(tx.sql, id);
  if (!view) throw new Error(`job ${id} vanished while being created`);
  return view;
}
