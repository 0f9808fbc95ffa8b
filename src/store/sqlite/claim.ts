// claimAttempts: take queued attempts whose time has come, atomically, with a lease.
import { transition } from '../../core/job-machine.js';
import type { AttemptOutcome } from '../../core/states.js';
import type { TaskPlan } from '../../spec/plan.js';
import type { Claim, ClaimRequest } from '../types.js';
import { loadJob, persist } from './apply.js';
import { Query, type Tx } from './db.js';
import { addEvent } from './events.js';

const TAKE = new Query((k, $: { id: string; worker: string; lease: number }) =>
  k.updateTable('attempts')
    .set((eb) => ({ state: 'running', worker: $.worker, lease_expires_at: $.lease, fence: eb('fence', '+', 1) }))
    .where('id', '=', $.id).where('state', '=', 'queued')
    .returning(['id', 'job_id', 'task', 'number', 'backend', 'fence']));

export const TASK_PLAN = new Query((k, $: { jobId: string; task: string }) =>
  k.selectFrom('tasks').select('plan').where('job_id', '=', $.jobId).where('name', '=', $.task));

const END = new Query((k, $: { id: string; now: number; outcome: string }) =>
  k.updateTable('attempts').set({ state: 'ended', ended_at: $.now, outcome: $.outcome }).where('id', '=', $.id));

export function claimAttempts(tx: Tx, req: ClaimRequest): Claim[] {
  if (req.limit < 1 || req.backends.length === 0) return [];
  const leaseExpiresAt = tx.now + req.leaseMs;
  const { k } = tx;
  // The write lock is already held (BEGIN IMMEDIATE), so choosing and then taking the rows is
  // atomic. Two statements rather than UPDATE … WHERE id IN (SELECT …): SQLite runs that form
  // in time growing with the table.
  const due = tx.sql.all(k.selectFrom('attempts').select('id')
    .where('state', '=', 'queued').where('backend', 'in', req.backends).where('not_before', '<=', tx.now)
    .$if(req.jobId !== undefined, (q) => q.where('job_id', '=', req.jobId ?? ''))
    .orderBy('not_before').orderBy('id').limit(req.limit));
  const rows = [];
  for (const { id } of due) {
    const row = tx.sql.get(TAKE, { id, worker: req.workerId, lease: leaseExpiresAt });
    if (row) rows.push(row);
  }

  const claims: Claim[] = [];
  for (const r of rows) {
    const job = loadJob(tx, r.job_id);
    const event = { type: 'attempt_claimed', task: r.task, attempt: r.number } as const;
    const t = job && transition(job.snapshot, event, tx.now);
    // Only the claimed task's plan: the snapshot leaves plans out, as they can be large.
    const plan = t && t.ok ? tx.sql.get(TASK_PLAN, { jobId: r.job_id, task: r.task })?.plan : undefined;
    if (!job || plan === undefined || !t || !t.ok) {
      // The job no longer wants this attempt (should not happen: cancel drops queued ones).
      const outcome: AttemptOutcome = { kind: 'canceled', reason: t && !t.ok ? t.message : 'the job is gone' };
      tx.sql.run(END, { id: r.id, now: tx.now, outcome: JSON.stringify(outcome) });
      if (job) addEvent(tx, r.job_id, { type: 'attempt', task: r.task, attempt: r.number, state: 'ended', outcome });
      continue;
    }
    // The attempt's own event first: the task and job changes follow from it.
    addEvent(tx, r.job_id, { type: 'attempt', task: r.task, attempt: r.number, state: 'running', outcome: null });
    persist(tx, job, event, t.next, t.effects);
    claims.push({
      attemptId: r.id, jobId: r.job_id, task: r.task, attempt: r.number, fence: r.fence, workerId: req.workerId,
      backend: r.backend, leaseExpiresAt, plan: JSON.parse(plan) as TaskPlan,
    });
  }
  return claims;
}
