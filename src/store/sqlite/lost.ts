// Expired leases: their workers are presumed dead, so the attempts end as `lost`, or are taken
// over by a worker that finds their run still going.
import type { AttemptOutcome } from '../../core/states.js';
import type { TaskPlan } from '../../spec/plan.js';
import type { Claim, ExpiredAttempt } from '../types.js';
import { TASK_PLAN } from './claim.js';
import { Query, type Sql, type Tx } from './db.js';
import { attemptEnded } from './finish.js';

export function expiredAttempts(sql: Sql, now: number): ExpiredAttempt[] {
  const rows = sql.all(sql.k.selectFrom('attempts')
    .select(['id', 'job_id', 'task', 'number', 'fence', 'backend', 'worker'])
    .where('state', '=', 'running').where('lease_expires_at', '<=', now)
    .orderBy('lease_expires_at').orderBy('id'));
  return rows.map((r) => ({
    attemptId: r.id, jobId: r.job_id, task: r.task, attempt: r.number, fence: r.fence, backend: r.backend, workerId: r.worker ?? '',
  }));
}

// Only if nothing happened since it was seen expired: not renewed, not ended, not reclaimed.
const LOSE = new Query((k, $: { id: string; fence: number; now: number; outcome: string }) =>
  k.updateTable('attempts').set({ state: 'ended', ended_at: $.now, outcome: $.outcome })
    .where('id', '=', $.id).where('state', '=', 'running').where('fence', '=', $.fence)
    .where('lease_expires_at', '<=', $.now));

export function markLost(tx: Tx, a: ExpiredAttempt, reason: string): boolean {
  const outcome: AttemptOutcome = { kind: 'lost', reason };
  if (tx.sql.run(LOSE, { id: a.attemptId, fence: a.fence, now: tx.now, outcome: JSON.stringify(outcome) }) === 0) return false;
  attemptEnded(tx, a.jobId, a.task, a.attempt, outcome);
  return true;
}

// The same condition as LOSE: nothing happened since it was seen expired.
const ADOPT = new Query((k, $: { id: string; fence: number; now: number; worker: string; lease: number }) =>
  k.updateTable('attempts').set((eb) => ({ worker: $.worker, lease_expires_at: $.lease, fence: eb('fence', '+', 1) }))
    .where('id', '=', $.id).where('state', '=', 'running').where('fence', '=', $.fence)
    .where('lease_expires_at', '<=', $.now)
    .returning(['fence', 'started_at', 'log_cursor']));

export function adoptAttempt(tx: Tx, a: ExpiredAttempt, req: { workerId: string; leaseMs: number }): Claim | undefined {
  const leaseExpiresAt = tx.now + req.leaseMs;
  const row = tx.sql.get(ADOPT, { id: a.attemptId, fence: a.fence, now: tx.now, worker: req.workerId, lease: leaseExpiresAt });
  const plan = row && tx.sql.get(TASK_PLAN, { jobId: a.jobId, task: a.task })?.plan;
  if (!row || plan === undefined) return undefined;
  return {
    attemptId: a.attemptId, jobId: a.jobId, task: a.task, attempt: a.attempt, fence: row.fence, workerId: req.workerId,
    backend: a.backend, leaseExpiresAt, plan: JSON.parse(plan) as TaskPlan,
    adopted: { startedAt: row.started_at, logCursor: row.log_cursor },
  };
}
