// Expired leases: their workers are presumed dead, so the attempts end as `lost`.
import type { AttemptOutcome } from '../../core/states.js';
import type { ExpiredAttempt } from '../types.js';
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
