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

const INSERT_JOB = new Query((k, $: { id: string; name: string; labels: string; spec: string; now: number }) =>
  k.insertInto('jobs').values({
    id: $.id, name: $.name, labels: $.labels, state: 'queued', cancel_requested: 0, spec: $.spec,
    created_at: $.now, updated_at: $.now, ended_at: null,
  }));

type TaskRow = { jobId: string; name: string; position: number; needs: string; retry: string; plan: string; backend: BackendName };
const INSERT_TASK = new Query((k, $: TaskRow) =>
  k.insertInto('tasks').values({
    job_id: $.jobId, name: $.name, position: $.position, state: 'pending', needs: $.needs, retry: $.retry, plan: $.plan,
    attempts: 0, attempts_base: 0, backend: $.backend,
  }));

export function createJob(tx: Tx, spec: JobSpec, defaultBackend: BackendName): JobView {
  const plans = jobPlan(spec);
  const id = newJobId(tx.now);
  tx.sql.run(INSERT_JOB, { id, name: spec.name, labels: JSON.stringify(spec.labels ?? {}), spec: JSON.stringify(spec), now: tx.now });
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
