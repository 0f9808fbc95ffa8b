// createJob: the job, its tasks and its first attempts, in one transaction.
import { sql } from 'kysely';
import { jobSnapshot, type TaskSnapshot } from '../../core/job-machine.js';
import type { JobView } from '../../spec/api.js';
import { jobPlan } from '../../spec/plan.js';
import type { BackendName, JobSpec } from '../../spec/schema.js';
import { newJobId } from '../sqlite/ids.js';
import { apply, type LoadedJob } from './apply.js';
import { pgText, type Tx } from './db.js';
import { addEvent } from './events.js';
import { getJobView } from './views.js';
import { keyConflict } from '../sqlite/create-job.js';
import type { StoreResult } from '../types.js';

/** Advisory lock class of idempotency keys (the key's hash is the other half). */
const IDEMPOTENCY_LOCK = 0x5748_4b59;

/** The job of a key seen before, or a new one; a lock on the key makes check-then-insert atomic. */
export async function createJobOnce(tx: Tx, spec: JobSpec, defaultBackend: BackendName, key: string): Promise<StoreResult<{ job: JobView; created: boolean }>> {
  await sql`SELECT pg_advisory_xact_lock(${IDEMPOTENCY_LOCK}, hashtext(${key}))`.execute(tx.k);
  const row = await tx.k.selectFrom('jobs').select(['id', 'spec']).where('idempotency_key', '=', key).executeTakeFirst();
  if (!row) return { ok: true, value: { job: await createJob(tx, spec, defaultBackend, key), created: true } };
  if (row.spec !== JSON.stringify(spec)) return { ok: false, error: { code: 'conflict', message: keyConflict(key, row.id) } };
  const job = await getJobView(tx.k, row.id);
  if (!job) throw new Error(`job ${row.id} vanished`);
  return { ok: true, value: { job, created: false } };
}

export async function createJob(tx: Tx, spec: JobSpec, defaultBackend: BackendName, key: string | null = null): Promise<JobView> {
  const plans = jobPlan(spec);
  const id = newJobId(tx.now);
  await tx.k.insertInto('jobs').values({
    id, name: pgText(spec.name), labels: JSON.stringify(spec.labels ?? {}), state: 'queued', cancel_requested: 0,
    spec: JSON.stringify(spec), created_at: tx.now, updated_at: tx.now, ended_at: null, idempotency_key: key,
  }).execute();
  addEvent(tx, id, { type: 'job_state', from: null, to: 'queued' });

  const snapshots = new Map<string, TaskSnapshot>();
  const backends = new Map<string, BackendName>();
  for (const p of plans) {
    const backend = p.backend ?? defaultBackend;
    addEvent(tx, id, { type: 'task_state', task: p.name, from: null, to: 'pending' });
    snapshots.set(p.name, { state: 'pending', needs: p.needs, retry: p.retry, attempts: 0, attemptsBase: 0 });
    backends.set(p.name, backend);
  }
  // All tasks in one statement, however many.
  await sql`INSERT INTO tasks (job_id, name, position, state, needs, retry, plan, attempts, attempts_base, backend)
    SELECT ${id}, t.name, t.position - 1, 'pending', t.needs, t.retry, t.plan, 0, 0, t.backend
    FROM unnest(${plans.map((p) => p.name)}::text[], ${plans.map((p) => JSON.stringify(p.needs))}::text[],
                ${plans.map((p) => JSON.stringify(p.retry))}::text[], ${plans.map((p) => JSON.stringify(p))}::text[],
                ${plans.map((p) => p.backend ?? defaultBackend)}::text[])
      WITH ORDINALITY AS t(name, needs, retry, plan, backend, position)`.execute(tx.k);

  // The snapshot is what was just inserted (rev 0, the column's default); no need to read it back.
  const job: LoadedJob = { id, rev: 0, snapshot: jobSnapshot(snapshots), backends };
  const t = await apply(tx, job, { type: 'created' });
  if (!t.ok) throw new Error(`job ${id}: ${t.message}`);
  const view = await getJobView(tx.k, id);
  if (!view) throw new Error(`job ${id} vanished while being created`);
  return view;
}
