// finishAttempts: record how attempts ended and let their jobs react (retry, dependants, end),
// for one claim or many in one transaction (coalesce.ts joins a busy worker's finishes): the
// jobs' rows locked and the attempts' rows ended in one statement, every job's rows written in
// one (writeRows), with the events.
import { sql } from 'kysely';
import { transition, type Effect } from '../../core/job-machine.js';
import type { AttemptOutcome } from '../../core/states.js';
import type { Claim, Fenced } from '../types.js';
import { persist, recordEffects, snapshotsOf, writeMoves, type JobRow, type Move } from './apply.js';
import type { Tx } from './db.js';
import { addEvent } from './events.js';
import { LEASE_LOST } from './fenced.js';
import { runPrepared } from './prepared.js';

export interface Finish {
  claim: Claim;
  outcome: AttemptOutcome;
}

/** After the attempt row has ended (its job locked before): its event, then the job's transition (markLost). */
export async function attemptEnded(
  tx: Tx, row: JobRow | undefined, jobId: string, task: string, attempt: number, outcome: AttemptOutcome,
): Promise<void> {
  addEvent(tx, jobId, { type: 'attempt', task, attempt, state: 'ended', outcome });
  if (!row) return;
  const job = (await snapshotsOf(tx, [row])).get(row.id);
  if (!job) return;
  const event = { type: 'attempt_ended', task, attempt, outcome } as const;
  const t = transition(job.snapshot, event, tx.now);
  if (t.ok) await persist(tx, job, event, t.next, t.effects);
}

/**
 * Store.finishAttempt for each item, in one transaction, with the result each would get alone.
 * Items name distinct attempts (coalesce.ts keeps a repeat for the next batch).
 */
export async function finishAttempts(tx: Tx, items: readonly Finish[]): Promise<Fenced[]> {
  // In one statement: every job's row first, in id order (any transaction locking several jobs
  // takes this order, so two such never wait for each other in a cycle), one key probe each in
  // the array's order (a subquery with FOR UPDATE is never flattened); only then the attempts
  // (apply.ts), with the fence of each (held() for many): only those still running under this
  // very claim. The jobs' branch comes first in the UNION and is read to its end before the
  // second, whose guard (an InitPlan, run before its first row) reads them all again anyway.
  const jobIds = [...new Set(items.map((i) => i.claim.jobId))].sort();
  const { rows } = await runPrepared(tx.k, sql<JobRow & { k: 'j' | 'a'; worker: string | null; fence: number | null }>`WITH
    j AS MATERIALIZED (SELECT j.id, j.state, j.cancel_requested, j.rev FROM unnest(${jobIds}::text[]) AS v(id),
      LATERAL (SELECT id, state, cancel_requested, rev FROM jobs WHERE jobs.id = v.id FOR UPDATE) AS j),
    a AS (UPDATE attempts AS a SET state = 'ended', ended_at = ${tx.now}, outcome = v.outcome
      FROM unnest(${items.map((i) => i.claim.attemptId)}::text[], ${items.map((i) => i.claim.workerId)}::text[],
                  ${items.map((i) => i.claim.fence)}::int[], ${items.map((i) => JSON.stringify(i.outcome))}::text[])
        AS v(id, worker, fence, outcome)
      WHERE (SELECT count(*) FROM j) >= 0
        AND a.id = v.id AND a.state = 'running' AND a.worker = v.worker AND a.fence = v.fence AND a.lease_expires_at > ${tx.now}
      RETURNING a.id, a.worker, a.fence)
    SELECT 'j' AS k, id, state, cancel_requested, rev, NULL AS worker, NULL::int AS fence FROM j
    UNION ALL SELECT 'a', id, NULL, NULL, NULL, worker, fence FROM a`);
  const jobs: JobRow[] = rows.filter((r) => r.k === 'j');
  const won = new Set(rows.filter((r) => r.k === 'a').map((r) => `${r.id}\n${r.worker}\n${r.fence}`));
  const results: Fenced[] = items.map((i) => (won.has(`${i.claim.attemptId}\n${i.claim.workerId}\n${i.claim.fence}`)
    ? { ok: true, value: undefined } : LEASE_LOST));

  const snapshots = await snapshotsOf(tx, jobs);
  // Per job, its attempts' transitions in the order given, joined into one move.
  const steps = new Map<string, { item: Finish; effects: Effect[] }[]>();
  const moves = new Map<string, Move>();
  items.forEach((item, n) => {
    if (!results[n]?.ok) return;
    const { claim, outcome } = item;
    const list = steps.get(claim.jobId) ?? [];
    steps.set(claim.jobId, list);
    const job = snapshots.get(claim.jobId);
    if (!job) {
      list.push({ item, effects: [] }); // no job row: only the attempt's event, as finishAttempt
      return;
    }
    const move = moves.get(job.id) ?? { job, next: job.snapshot, effects: [], dropReason: 'dropped' };
    const t = transition(move.next, { type: 'attempt_ended', task: claim.task, attempt: claim.attempt, outcome }, tx.now);
    list.push({ item, effects: t.ok ? t.effects : [] });
    if (t.ok) moves.set(job.id, { ...move, next: t.next, effects: [...move.effects, ...t.effects] });
  });
  // The events as each finish alone would have made them, in the items' order per job.
  await writeMoves(tx, [...moves.values()], (written) => {
    for (const [jobId, list] of steps) {
      for (const { item, effects } of list) {
        addEvent(tx, jobId, { type: 'attempt', task: item.claim.task, attempt: item.claim.attempt, state: 'ended', outcome: item.outcome });
        recordEffects(tx, jobId, effects, written, 'dropped');
      }
    }
  });
  return results;
}
