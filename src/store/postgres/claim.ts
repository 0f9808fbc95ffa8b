// claimAttempts: take queued attempts whose time has come, atomically, with a lease, in one
// statement (TAKE) and the job transitions after it:
//
// 1. Pick attempts with FOR UPDATE SKIP LOCKED (CLAIM_SQL): concurrent claimers take disjoint
//    rows, and none waits for another.
// 2. Lock their jobs' rows, also SKIP LOCKED: a job another transaction is changing (a finish,
//    a cancel, another claim) is left alone and its attempts stay queued for the next claim.
//    Waiting here instead could deadlock: that transaction may be waiting for one of the
//    attempt rows we hold (a cancel dropping it). A claim never waits for a row lock (only,
//    at its end, for the events lock, whose holders wait for nothing: db.ts), and everything
//    else locks a job before its attempts (apply.ts), so no cycle can form.
// 3. Take the attempts of the jobs locked, with their tasks' plans, and apply `attempt_claimed`
//    to each job once, for all its claims.
import { CompiledQuery } from 'kysely';
import { transition, type Effect } from '../../core/job-machine.js';
import type { AttemptOutcome, JobState } from '../../core/states.js';
import type { TaskPlan } from '../../spec/plan.js';
import type { BackendName } from '../../spec/schema.js';
import type { Claim, ClaimRequest } from '../types.js';
import { recordEffects, snapshotsOf, writeMoves, type JobRow, type Move, type TaskRow } from './apply.js';
import type { Tx } from './db.js';
import { addEvent } from './events.js';
import { prepared } from './prepared.js';

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
export const CLAIM_SQL = `SELECT a.id, a.job_id, a.not_before FROM unnest($1::text[]) AS b(backend),
LATERAL (SELECT id, job_id, not_before FROM attempts
  WHERE state = 'queued' AND backend = b.backend AND not_before <= $2
  ORDER BY not_before, id LIMIT $3
  FOR UPDATE SKIP LOCKED) AS a
ORDER BY a.not_before, a.id LIMIT $3`;

/** The same for one job's attempts ($6): few rows, found through the (job_id, task, number) index. */
export const CLAIM_JOB_SQL = `SELECT id, job_id, not_before FROM attempts
WHERE job_id = $6 AND state = 'queued' AND backend = ANY($1::text[]) AND not_before <= $2
ORDER BY not_before, id LIMIT $3
FOR UPDATE SKIP LOCKED`;

/** A job with more tasks than this has its snapshot read on its own (or found in the cache). */
export const SMALL_JOB = 64;

/**
 * Steps 1-3 in one round trip: $4 the worker, $5 the lease's end. Every other table is reached
 * by key, one probe per row, whatever the table's size and statistics: a subquery with FOR
 * UPDATE, or with LIMIT, is never flattened into a join the planner could turn into a scan,
 * and `id = ANY(array)` reads the primary key. The picked rows are ours (locked) and queued,
 * so the update needs no second look at their state. In claim order; `plan` is null only if
 * the task row is gone.
 *
 * `tasks`: a small job's task rows for its snapshot (a worker rarely has a new job cached),
 * read with this statement's snapshot, so only if the job's row in that snapshot is the row
 * locked (same rev: every write to a job's tasks bumps it), else null; SMALL_JOB + 1 rows
 * mean a larger job.
 */
export function takeSql(pick: string): string {
  return `WITH picked AS MATERIALIZED (${pick}),
locked AS MATERIALIZED (SELECT j.*, CASE WHEN (SELECT s.rev FROM jobs AS s WHERE s.id = j.id) = j.rev THEN
    (SELECT json_agg(json_build_array(x.name, x.state, x.needs, x.retry, x.attempts, x.attempts_base, x.backend) ORDER BY x.position)
     FROM (SELECT name, state, needs, retry, attempts, attempts_base, backend, position FROM tasks
           WHERE tasks.job_id = j.id ORDER BY position LIMIT ${SMALL_JOB + 1}) AS x)::text END AS tasks
  FROM (SELECT DISTINCT job_id FROM picked) AS p,
  LATERAL (SELECT id, state, cancel_requested, rev FROM jobs WHERE id = p.job_id FOR UPDATE SKIP LOCKED) AS j),
taken AS (UPDATE attempts SET state = 'running', worker = $4, lease_expires_at = $5, fence = fence + 1
  WHERE id = ANY(ARRAY(SELECT p.id FROM picked AS p JOIN locked AS j ON j.id = p.job_id))
  RETURNING id, job_id, task, number, backend, fence, not_before)
SELECT t.id, t.job_id, t.task, t.number, t.backend, t.fence, j.state, j.cancel_requested, j.rev, j.tasks, k.plan
FROM taken AS t JOIN locked AS j ON j.id = t.job_id
  LEFT JOIN LATERAL (SELECT plan FROM tasks WHERE tasks.job_id = t.job_id AND tasks.name = t.task LIMIT 1) AS k ON true
ORDER BY t.not_before, t.id`;
}

const TAKE = takeSql(CLAIM_SQL);
const TAKE_JOB = takeSql(CLAIM_JOB_SQL);

interface Taken {
  id: string; job_id: string; task: string; number: number; backend: BackendName; fence: number;
  state: JobState; cancel_requested: number; rev: number; tasks: string | null; plan: string | null;
}

type TaskTuple = [string, TaskRow['state'], string, string, number, number, BackendName];

function smallJobTasks(text: string | null): TaskRow[] | undefined {
  if (text === null) return undefined;
  const tuples = JSON.parse(text) as TaskTuple[] | null;
  if (tuples === null || tuples.length > SMALL_JOB) return undefined;
  return tuples.map(([name, state, needs, retry, attempts, base, backend]) => ({ name, state, needs, retry, attempts, attempts_base: base, backend }));
}

export async function claimAttempts(tx: Tx, req: ClaimRequest): Promise<Claim[]> {
  if (req.limit < 1 || req.backends.length === 0) return [];
  const leaseExpiresAt = tx.now + req.leaseMs;
  const params: unknown[] = [req.backends, tx.now, Math.floor(req.limit), req.workerId, leaseExpiresAt];
  const { rows: taken } = await tx.k.executeQuery<Taken>(prepared(req.jobId === undefined
    ? CompiledQuery.raw(TAKE, params)
    : CompiledQuery.raw(TAKE_JOB, [...params, req.jobId])));
  if (taken.length === 0) return [];

  const byJob = new Map<string, Taken[]>();
  const jobRows = new Map<string, JobRow>();
  const known = new Map<string, TaskRow[]>();
  for (const r of taken) {
    byJob.set(r.job_id, [...(byJob.get(r.job_id) ?? []), r]);
    if (jobRows.has(r.job_id)) continue;
    jobRows.set(r.job_id, { id: r.job_id, state: r.state, cancel_requested: r.cancel_requested, rev: r.rev });
    const tasks = smallJobTasks(r.tasks);
    if (tasks) known.set(r.job_id, tasks);
  }
  const snapshots = await snapshotsOf(tx, [...jobRows.values()], known);
  const moves: (Move & { steps: { r: Taken; effects: Effect[]; plan: string }[] })[] = [];
  for (const [jobId, rows] of byJob) {
    const job = snapshots.get(jobId);
    if (!job) continue; // cannot happen: only attempts of locked jobs were taken
    let next = job.snapshot;
    const steps: { r: Taken; effects: Effect[]; plan: string }[] = [];
    for (const r of rows) {
      const t = transition(next, { type: 'attempt_claimed', task: r.task, attempt: r.number }, tx.now);
      if (!t.ok || r.plan === null) {
        // The job no longer wants this attempt (should not happen: cancel drops queued ones).
        const outcome: AttemptOutcome = { kind: 'canceled', reason: t.ok ? 'the task is gone' : t.message };
        await tx.k.updateTable('attempts').set({ state: 'ended', ended_at: tx.now, outcome: JSON.stringify(outcome) })
          .where('id', '=', r.id).execute();
        addEvent(tx, jobId, { type: 'attempt', task: r.task, attempt: r.number, state: 'ended', outcome });
        continue;
      }
      steps.push({ r, effects: t.effects, plan: r.plan });
      next = t.next;
    }
    moves.push({ job, next, effects: steps.flatMap((s) => s.effects), dropReason: 'dropped', steps });
  }
  // Every job's rows in one statement, and the events in claim order.
  const claims: Claim[] = [];
  await writeMoves(tx, moves, (written) => {
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
  });
  // In the order chosen (longest waiting first), as the SQLite store takes and returns them.
  const order = new Map(taken.map((r, i) => [r.id, i]));
  return claims.sort((a, b) => (order.get(a.attemptId) ?? 0) - (order.get(b.attemptId) ?? 0));
}
