// Locks a job's row and loads its snapshot for the state machine (from memory while its rev is
// current, see ../sqlite/job-cache.ts), and persists what transitions decided: the changed task
// rows, the jobs' rows and the attempt rows of their effects, all in one statement, then their
// events in effect order.
//
// Lock order, which keeps writers deadlock-free: a transaction that changes a job locks the
// job's row (SELECT … FOR UPDATE) before any attempt row of it, and waits for job locks only
// while it holds no attempt lock. The claim, which must find attempts first, never waits for
// a job lock (SKIP LOCKED, see claim.ts).
import { sql, type RawBuilder, type SqlBool } from 'kysely';
import { jobSnapshot, transition, type Effect, type JobEvent, type JobSnapshot, type TaskSnapshot, type Transition } from '../../core/job-machine.js';
import { isJobEnded, type AttemptOutcome, type JobState } from '../../core/states.js';
import type { RetryPolicy } from '../../spec/plan.js';
import type { BackendName } from '../../spec/schema.js';
import { attemptId } from '../sqlite/ids.js';
import type { LoadedJob } from '../sqlite/job-cache.js';
import { eventsTail, pgText, type Tx } from './db.js';
import { addEvent } from './events.js';
import { runPrepared } from './prepared.js';
import type { TasksTable } from './tables.js';

export type { LoadedJob };

export interface JobRow { id: string; state: JobState; cancel_requested: number; rev: number }

/** `id = ANY(array)`: one parameter however many ids. */
export function idIn(ids: readonly string[]): RawBuilder<SqlBool> {
  return sql<SqlBool>`id = any(${ids}::text[])`;
}

/** Locks the job's row until the transaction ends; undefined when there is no such job. */
export async function lockJob(tx: Tx, jobId: string): Promise<JobRow | undefined> {
  return tx.k.selectFrom('jobs').select(['id', 'state', 'cancel_requested', 'rev']).where('id', '=', jobId).forUpdate().executeTakeFirst();
}

/** Locks the job and returns its snapshot as of now. */
export async function loadJob(tx: Tx, jobId: string): Promise<LoadedJob | undefined> {
  const row = await lockJob(tx, jobId);
  return row && (await snapshotsOf(tx, [row])).get(row.id);
}

/** A task row as a job's snapshot needs it, in position order. */
export type TaskRow = Pick<TasksTable, 'name' | 'state' | 'needs' | 'retry' | 'attempts' | 'attempts_base' | 'backend'>;

/**
 * The snapshots at the (locked) rows' revs: this transaction's, the cache's, the task rows
 * given (`known`, read at the job's rev), or read from the task rows, of all the jobs still
 * missing in one query.
 */
export async function snapshotsOf(tx: Tx, jobs: readonly JobRow[], known?: ReadonlyMap<string, readonly TaskRow[]>): Promise<Map<string, LoadedJob>> {
  const out = new Map<string, LoadedJob>();
  const missing: JobRow[] = [];
  for (const job of jobs) {
    const seen = tx.seen.get(job.id);
    const found = seen?.rev === job.rev ? seen : tx.cache.get(job.id, job.rev);
    if (found) out.set(job.id, found);
    else missing.push(job);
  }
  if (missing.length === 0) return out;
  const byJob = new Map<string, TaskRow[]>();
  for (const job of missing) {
    const rows = known?.get(job.id);
    if (rows) byJob.set(job.id, [...rows]);
  }
  const unread = missing.filter((j) => !byJob.has(j.id));
  if (unread.length > 0) {
    const { rows } = await runPrepared(tx.k, tx.k.selectFrom('tasks')
      .select(['job_id', 'name', 'state', 'needs', 'retry', 'attempts', 'attempts_base', 'backend'])
      .where(sql<SqlBool>`job_id = any(${unread.map((j) => j.id)}::text[])`).orderBy('job_id').orderBy('position'));
    for (const j of unread) byJob.set(j.id, []);
    for (const r of rows) byJob.get(r.job_id)?.push(r);
  }
  for (const job of missing) {
    const snapshots = new Map<string, TaskSnapshot>();
    const backends = new Map<string, BackendName>();
    for (const r of byJob.get(job.id) ?? []) {
      snapshots.set(r.name, {
        state: r.state, needs: JSON.parse(r.needs) as string[], retry: JSON.parse(r.retry) as RetryPolicy, attempts: r.attempts, attemptsBase: r.attempts_base,
      });
      backends.set(r.name, r.backend);
    }
    tx.cache.stats.loads++;
    tx.cache.stats.taskRows += snapshots.size;
    const loaded: LoadedJob = { id: job.id, rev: job.rev, snapshot: jobSnapshot(snapshots, job.state, job.cancel_requested === 1), backends };
    tx.seen.set(job.id, loaded);
    out.set(job.id, loaded);
  }
  return out;
}

/** Runs the event through the state machine and persists the result when it is accepted. */
export async function apply(tx: Tx, job: LoadedJob, event: JobEvent): Promise<Transition> {
  const t = transition(job.snapshot, event, tx.now);
  if (t.ok) await persist(tx, job, event, t.next, t.effects);
  return t;
}

export async function persist(tx: Tx, job: LoadedJob, event: JobEvent, next: JobSnapshot, effects: readonly Effect[]): Promise<void> {
  const dropReason = event.type === 'cancel' ? event.reason : 'dropped';
  await writeMoves(tx, [{ job, next, effects, dropReason }], (written) => recordEffects(tx, job.id, effects, written, dropReason));
}

const NOTHING_WRITTEN: Written = { dropped: new Set(), stopped: new Set() };

/**
 * writeRows, then `record` (the moves' events, which may depend on what was written). When they
 * cannot (no attempt dropped or stopped), they are recorded first and go in with the rows, in
 * one statement (db.ts, eventsTail): every row written belongs to a job locked already.
 */
export async function writeMoves(tx: Tx, moves: readonly Move[], record: (written: Written) => void): Promise<void> {
  const independent = moves.every((m) => m.effects.every((e) => e.type !== 'drop_attempt' && e.type !== 'stop_attempt'));
  if (!independent) {
    record(await writeRows(tx, moves));
    return;
  }
  record(NOTHING_WRITTEN);
  await writeRows(tx, moves, true);
}

/** A job's move from its loaded snapshot to `next` (several transitions' effects may be joined). */
export interface Move {
  job: LoadedJob;
  next: JobSnapshot;
  effects: readonly Effect[];
  /** Why attempts this move drops end canceled. */
  dropReason: string;
}

/** Attempts the moves dropped and asked to stop: each only if its row was still in the state for it. */
export interface Written {
  dropped: ReadonlySet<string>;
  stopped: ReadonlySet<string>;
}

/**
 * Writes the rows for these moves (of distinct jobs) in one statement. Only tasks an effect
 * names can have changed (the machine announces every state change; see ../sqlite/apply.ts).
 */
export async function writeRows(tx: Tx, moves: readonly Move[], withEvents = false): Promise<Written> {
  const tasks = { job: [] as string[], name: [] as string[], state: [] as string[], attempts: [] as number[], base: [] as number[] };
  const jobs = { id: [] as string[], state: [] as string[], cancel: [] as number[], setEnded: [] as boolean[], endedAt: [] as (number | null)[] };
  const adds = { id: [] as string[], job: [] as string[], task: [] as string[], n: [] as number[], backend: [] as string[], notBefore: [] as number[] };
  const drops = { id: [] as string[], outcome: [] as string[] };
  const stops = { id: [] as string[], reason: [] as string[] };
  const moved = new Map<string, Move>();

  for (const m of moves) {
    const { job, next, effects } = m;
    const prev = job.snapshot;
    if (next === prev && effects.length === 0) continue;
    if (moved.has(job.id)) throw new Error(`job ${job.id} moved twice in one write`);
    moved.set(job.id, m);
    const touched = new Set<string>();
    for (const e of effects) if (e.type !== 'job_state') touched.add(e.task);
    for (const name of touched) {
      const t = next.tasks.get(name);
      const p = prev.tasks.get(name);
      if (t === undefined || (p && p.state === t.state && p.attempts === t.attempts && p.attemptsBase === t.attemptsBase)) continue;
      tasks.job.push(job.id); tasks.name.push(name); tasks.state.push(t.state); tasks.attempts.push(t.attempts); tasks.base.push(t.attemptsBase);
    }
    const changed = effects.findLast((e): e is Extract<Effect, { type: 'job_state' }> => e.type === 'job_state');
    jobs.id.push(job.id); jobs.state.push(next.state); jobs.cancel.push(next.cancelRequested ? 1 : 0);
    // A job reopened by retry is no longer ended.
    jobs.setEnded.push(changed !== undefined); jobs.endedAt.push(changed && isJobEnded(changed.to) ? tx.now : null);
    const dropOutcome = JSON.stringify({ kind: 'canceled', reason: m.dropReason } satisfies AttemptOutcome);
    for (const e of effects) {
      if (e.type === 'enqueue_attempt') {
        const backend = job.backends.get(e.task);
        if (backend === undefined) throw new Error(`job ${job.id} has no task "${e.task}"`);
        adds.id.push(attemptId(job.id, e.task, e.attempt)); adds.job.push(job.id); adds.task.push(e.task);
        adds.n.push(e.attempt); adds.backend.push(backend); adds.notBefore.push(e.notBefore);
      } else if (e.type === 'drop_attempt') {
        drops.id.push(attemptId(job.id, e.task, e.attempt)); drops.outcome.push(dropOutcome);
      } else if (e.type === 'stop_attempt') {
        // The first reason stands; the worker sees it on its next renewal.
        stops.id.push(attemptId(job.id, e.task, e.attempt)); stops.reason.push(pgText(e.reason));
      }
    }
  }
  if (moved.size === 0) return { dropped: new Set(), stopped: new Set() };

  // Every part touches different rows (the attempts dropped are queued, those stopped running).
  const ctes: RawBuilder<unknown>[] = [];
  const results: RawBuilder<unknown>[] = [sql`SELECT 'j' AS k, id, rev FROM j`];
  if (tasks.job.length > 0) {
    ctes.push(sql`t AS (UPDATE tasks AS x SET state = v.state, attempts = v.attempts, attempts_base = v.base
      FROM unnest(${tasks.job}::text[], ${tasks.name}::text[], ${tasks.state}::text[], ${tasks.attempts}::int[], ${tasks.base}::int[])
        AS v(job_id, name, state, attempts, base)
      WHERE x.job_id = v.job_id AND x.name = v.name RETURNING 1)`);
  }
  if (adds.id.length > 0) {
    ctes.push(sql`a AS (INSERT INTO attempts (id, job_id, task, number, backend, state, queued_at, not_before, fence, log_bytes, log_truncated)
      SELECT v.id, v.job_id, v.task, v.number, v.backend, 'queued', ${tx.now}, v.not_before, 0, 0, 0
      FROM unnest(${adds.id}::text[], ${adds.job}::text[], ${adds.task}::text[], ${adds.n}::int[], ${adds.backend}::text[], ${adds.notBefore}::bigint[])
        AS v(id, job_id, task, number, backend, not_before)
      RETURNING 1)`);
  }
  if (drops.id.length > 0) {
    ctes.push(sql`d AS (UPDATE attempts AS x SET state = 'ended', ended_at = ${tx.now}, outcome = v.outcome
      FROM unnest(${drops.id}::text[], ${drops.outcome}::text[]) AS v(id, outcome)
      WHERE x.id = v.id AND x.state = 'queued' RETURNING x.id)`);
    results.push(sql`SELECT 'd', id, NULL FROM d`);
  }
  if (stops.id.length > 0) {
    ctes.push(sql`s AS (UPDATE attempts AS x SET stop_requested = v.reason
      FROM unnest(${stops.id}::text[], ${stops.reason}::text[]) AS v(id, reason)
      WHERE x.id = v.id AND x.state = 'running' AND x.stop_requested IS NULL RETURNING x.id)`);
    results.push(sql`SELECT 's', id, NULL FROM s`);
  }
  ctes.push(sql`j AS (UPDATE jobs AS x SET state = v.state, cancel_requested = v.cancel, updated_at = ${tx.now}, rev = x.rev + 1,
      ended_at = CASE WHEN v.set_ended THEN v.ended_at ELSE x.ended_at END
    FROM unnest(${jobs.id}::text[], ${jobs.state}::text[], ${jobs.cancel}::int[], ${jobs.setEnded}::bool[], ${jobs.endedAt}::bigint[])
      AS v(id, state, cancel, set_ended, ended_at)
    WHERE x.id = v.id RETURNING x.id, x.rev)`);
  // Never with drops: a queued attempt's row may be locked by a claim that waits for the events lock.
  if (withEvents && drops.id.length === 0 && stops.id.length === 0) {
    ctes.push(...eventsTail(tx, [...(tasks.job.length > 0 ? ['t'] : []), ...(adds.id.length > 0 ? ['a'] : []), 'j']));
  }
  // Of a fixed shape for each set of parts present (at most 16), so it is sent by name.
  const { rows } = await runPrepared(tx.k, sql<{ k: 'j' | 'd' | 's'; id: string; rev: number | null }>`WITH ${sql.join(ctes)} ${sql.join(results, sql` UNION ALL `)}`);

  const dropped = new Set<string>();
  const stopped = new Set<string>();
  const revs = new Map<string, number>();
  for (const r of rows) {
    if (r.k === 'd') dropped.add(r.id);
    else if (r.k === 's') stopped.add(r.id);
    else if (r.rev !== null) revs.set(r.id, r.rev);
  }
  for (const [id, m] of moved) {
    const rev = revs.get(id);
    if (rev === undefined) throw new Error(`job ${id} vanished while being updated`);
    // The rows now hold `next`: the job's next event in this transaction need not read them again.
    tx.seen.set(id, { id, rev, snapshot: m.next, backends: m.job.backends });
  }
  return { dropped, stopped };
}

/** The events and nudges of these effects, in their order. */
export function recordEffects(tx: Tx, jobId: string, effects: readonly Effect[], w: Written, dropReason: string): void {
  for (const e of effects) {
    switch (e.type) {
      case 'task_state':
        addEvent(tx, jobId, { type: 'task_state', task: e.task, from: e.from, to: e.to });
        break;
      case 'job_state':
        addEvent(tx, jobId, { type: 'job_state', from: e.from, to: e.to });
        break;
      case 'enqueue_attempt':
        addEvent(tx, jobId, { type: 'attempt', task: e.task, attempt: e.attempt, state: 'queued', outcome: null });
        tx.changes.queued = true;
        break;
      case 'drop_attempt':
        if (w.dropped.has(attemptId(jobId, e.task, e.attempt))) {
          addEvent(tx, jobId, { type: 'attempt', task: e.task, attempt: e.attempt, state: 'ended', outcome: { kind: 'canceled', reason: dropReason } });
        }
        break;
      case 'stop_attempt': {
        const id = attemptId(jobId, e.task, e.attempt);
        if (w.stopped.has(id)) tx.changes.stops.push({ attemptId: id, reason: e.reason });
        break;
      }
    }
  }
}
