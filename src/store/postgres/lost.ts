// Expired leases: their workers are presumed dead, so the attempts end as `lost`, or are taken
// over by a worker that finds their run still going.
import type { Kysely } from 'kysely';
import type { AttemptOutcome } from '../../core/states.js';
import type { TaskPlan } from '../../spec/plan.js';
import type { Claim, ExpiredAttempt } from '../types.js';
import { lockJob } from './apply.js';
import type { Tx } from './db.js';
import { RUNNING } from './fenced.js';
import { attemptEnded } from './finish.js';
import type { Tables } from './tables.js';

export async function expiredAttempts(k: Kysely<Tables>, now: number): Promise<ExpiredAttempt[]> {
  const rows = await k.selectFrom('attempts')
    .select(['id', 'job_id', 'task', 'number', 'fence', 'backend', 'worker'])
    .where(RUNNING).where('lease_expires_at', '<=', now)
    .orderBy('lease_expires_at').orderBy('id').execute();
  return rows.map((r) => ({
    attemptId: r.id, jobId: r.job_id, task: r.task, attempt: r.number, fence: r.fence, backend: r.backend, workerId: r.worker ?? '',
  }));
}

export async function markLost(tx: Tx, a: ExpiredAttempt, reason: string): Promise<boolean> {
  const outcome: AttemptOutcome = { kind: 'lost', reason };
  const job = await lockJob(tx, a.jobId); // before the attempt's row (see apply.ts)
  // Only if nothing happened since it was seen expired: not renewed, not ended, not reclaimed.
  const r = await tx.k.updateTable('attempts').set({ state: 'ended', ended_at: tx.now, outcome: JSON.stringify(outcome) })
    .where('id', '=', a.attemptId).where('state', '=', 'running').where('fence', '=', a.fence)
    .where('lease_expires_at', '<=', tx.now).executeTakeFirst();
  if (r.numUpdatedRows === 0n) return false;
  await attemptEnded(tx, job, a.jobId, a.task, a.attempt, outcome);
  return true;
}

/** No job lock: taking over changes only the attempt's row. */
export async function adoptAttempt(tx: Tx, a: ExpiredAttempt, req: { workerId: string; leaseMs: number }): Promise<Claim | undefined> {
  const leaseExpiresAt = tx.now + req.leaseMs;
  // The same condition as markLost: nothing happened since it was seen expired.
  const row = await tx.k.updateTable('attempts')
    .set((eb) => ({ worker: req.workerId, lease_expires_at: leaseExpiresAt, fence: eb('fence', '+', 1) }))
    .where('id', '=', a.attemptId).where('state', '=', 'running').where('fence', '=', a.fence)
    .where('lease_expires_at', '<=', tx.now)
    .returning(['fence', 'started_at', 'log_cursor']).executeTakeFirst();
  if (!row) return undefined;
  const task = await tx.k.selectFrom('tasks').select('plan').where('job_id', '=', a.jobId).where('name', '=', a.task).executeTakeFirst();
  if (!task) return undefined;
  return {
    attemptId: a.attemptId, jobId: a.jobId, task: a.task, attempt: a.attempt, fence: row.fence, workerId: req.workerId,
    backend: a.backend, leaseExpiresAt, plan: JSON.parse(task.plan) as TaskPlan,
    adopted: { startedAt: row.started_at, logCursor: row.log_cursor },
  };
}
