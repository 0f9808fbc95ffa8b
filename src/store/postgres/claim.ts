// claimAttempts: take queued attempts whose time has come, atomically, with a lease.
//
// 1. Pick attempts with FOR UPDATE SKIP LOCKED (CLAIM_SQL): concurrent claimers take disjoint
//    rows, and none waits for another.
// 2. Lock their jobs' rows, also SKIP LOCKED: a job another transaction is changing (a finish,
//    a cancel, another claim) is left alone and its attempts stay queued for the next claim.
//    Waiting here instead could deadlock: that transaction may be waiting for one of the
//    attempt rows we hold (a cancel dropping it). A claim never waits for a row lock (only,
//    at its end, for the events lock, whose holders wait for nothing: db.ts), and everything
//    else locks a job before its attempts (apply.ts), so no cycle can form.
// 3. Take the attempts and apply `attempt_claimed` to each job once, for all its claims.
import { CompiledQuery, sql } from 'kysely';
import { transition, type Effect } from '../../core/job-machine.js';
import type { AttemptOutcome } from '../../core/states.js';
import type { TaskPlan } from '../../spec/plan.js';
import type { BackendName } from '../../spec/schema.js';
import type { Claim, ClaimRequest } from '../types.js';
import { idIn, recordEffects, snapshotsOf, writeRows, type JobRow, type Move } from './apply.js';
import type { Tx } from './db.js';
import { addEvent } from './events.js';

/**
 * The claim's choice of attempts, exactly as run: $1 backends, $2 now, $3 limit. Per backend,
 * the partial index attempts_to_claim (backend, not_before, id) gives that backend's due
 * attempts in claim order, and the scan stops after `limit` unlocked rows; only those (at
 * most limit × backends) are sorted to pick the `limit` longest waiting. A single ordered
 * scan with `backend = ANY($1)` cannot use the index order on PostgreSQL 15 and would sort
 * every due attempt. The state is a literal so the planner matches the partial index.
 * test/store/postgres/claim-plan.test.ts checks the plan on a table never analyzed.
 *
 * Rows of a backend beyond what the outer LIMIT keeps stay locked (not claimed) until this
 * transaction ends; concurrent claims skip them meanwhile, which costs them nothing but order.
 */
export const CLAIM_SQL = `SELECT a.id, a.job_id FROM unnest($1::text[]) AS b(backend),
LATERAL (SELECT id, job_id, not_before FROM attempts
  WHERE state = 'queued' AND backend = b.backend AND not_before <= $2
  ORDER BY not_before, id LIMIT $3
  FOR UPDATE SKIP LOCKED) AS a
ORDER BY a.not_before, a.id LIMIT $3`;

/** The same for one job's attempts ($4): few rows, found through the (job_id, task, number) index. */
export const CLAIM_JOB_SQL = `SELECT id, job_id FROM attempts
WHERE job_id = $4 AND state = 'queued' AND backend = ANY($1::text[]) AND not_before <= $2
ORDER BY not_before, id LIMIT $3
FOR UPDATE SKIP LOCKED`;

interface Taken { id: string; job_id: string; task: string; number: number; backend: BackendName; fence: number }

export async function claimAttempts(tx: Tx, req: ClaimRequest): Promise<Claim[]> {
  if (req.limit < 1 || req.backends.length === 0) return [];
  const leaseExpiresAt = tx.now + req.leaseMs;
  const params: unknown[] = [req.backends, tx.now, Math.floor(req.limit)];
  const picked = await tx.k.executeQuery<{ id: string; job_id: string }>(req.jobId === undefined
    ? CompiledQuery.raw(CLAIM_SQL, params)
    : CompiledQuery.raw(CLAIM_JOB_SQL, [...params, req.jobId]));
  if (picked.rows.length === 0) return [];

  const jobIds = [...new Set(picked.rows.map((r) => r.job_id))].sort();
  const jobs = await sql<JobRow>`SELECT id, state, cancel_requested, rev FROM jobs
    WHERE id = any(${jobIds}::text[]) ORDER BY id FOR UPDATE SKIP LOCKED`.execute(tx.k);
  const locked = new Map(jobs.rows.map((j) => [j.id, j]));
  const ids = picked.rows.filter((r) => locked.has(r.job_id)).map((r) => r.id);
  if (ids.length === 0) return [];

  const taken = await tx.k.updateTable('attempts')
    .set((eb) => ({ state: 'running', worker: req.workerId, lease_expires_at: leaseExpiresAt, fence: eb('fence', '+', 1) }))
    .where(idIn(ids)).where('state', '=', 'queued')
    .returning(['id', 'job_id', 'task', 'number', 'backend', 'fence']).execute();
  // Only the claimed tasks' plans: the snapshot leaves plans out, as they can be large.
  const plans = await sql<{ job_id: string; name: string; plan: string }>`SELECT job_id, name, plan FROM tasks
    WHERE (job_id, name) IN (SELECT * FROM unnest(${taken.map((r) => r.job_id)}::text[], ${taken.map((r) => r.task)}::text[]))`.execute(tx.k);
  const planOf = new Map(plans.rows.map((p) => [`${p.job_id}\n${p.name}`, p.plan]));

  // In the order chosen (longest waiting first), as the SQLite store takes and returns them.
  const order = new Map(ids.map((id, i) => [id, i]));
  const rank = (id: string): number => order.get(id) ?? 0;
  taken.sort((a, b) => rank(a.id) - rank(b.id));
  const byJob = new Map<string, Taken[]>();
  for (const r of taken) byJob.set(r.job_id, [...(byJob.get(r.job_id) ?? []), r]);
  const snapshots = await snapshotsOf(tx, [...byJob.keys()].flatMap((id) => locked.get(id) ?? []));
  const moves: (Move & { steps: { r: Taken; effects: Effect[]; plan: string }[] })[] = [];
  for (const [jobId, rows] of byJob) {
    const job = snapshots.get(jobId);
    if (!job) continue; // cannot happen: only attempts of locked jobs were taken
    let next = job.snapshot;
    const steps: { r: Taken; effects: Effect[]; plan: string }[] = [];
    for (const r of rows) {
      const t = transition(next, { type: 'attempt_claimed', task: r.task, attempt: r.number }, tx.now);
      const plan = planOf.get(`${jobId}\n${r.task}`);
      if (!t.ok || plan === undefined) {
        // The job no longer wants this attempt (should not happen: cancel drops queued ones).
        const outcome: AttemptOutcome = { kind: 'canceled', reason: t.ok ? 'the task is gone' : t.message };
        await tx.k.updateTable('attempts').set({ state: 'ended', ended_at: tx.now, outcome: JSON.stringify(outcome) })
          .where('id', '=', r.id).execute();
        addEvent(tx, jobId, { type: 'attempt', task: r.task, attempt: r.number, state: 'ended', outcome });
        continue;
      }
      steps.push({ r, effects: t.effects, plan });
      next = t.next;
    }
    moves.push({ job, next, effects: steps.flatMap((s) => s.effects), dropReason: 'dropped', steps });
  }
  // Every job's rows in one statement, then the events in claim order.
  const written = await writeRows(tx, moves);
  const claims: Claim[] = [];
  for (const { job, steps } of moves) {
    for (const { r, effects, plan } of steps) {
      // The attempt's own event first: the task and job changes follow from it.
      addEvent(tx, job.id, { type: 'attempt', task: r.task, attempt: r.number, state: 'running', outcome: null });
      recordEffects(tx, job.id, effects, written, 'dropped');
      claims.push({
        attemptId: r.id, jobId: job.id, task: r.task, attempt: r.number, fence: r.fence, workerId: req.workerId,
        backend: r.backend, leaseExpiresAt, plan: JSON.parse(plan) as TaskPlan,
      });
    }
  }
  return claims.sort((a, b) => rank(a.attemptId) - rank(b.attemptId));
}
