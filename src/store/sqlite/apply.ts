// Loads a job's snapshot for the state machine (from memory while its rev is current, see
// job-cache.ts) and persists what a transition decided: the snapshot's changed rows, then each
// effect in order (attempt rows, events, stop requests).
import { jobSnapshot, transition, type Effect, type JobEvent, type JobSnapshot, type TaskSnapshot, type Transition } from '../../core/job-machine.js';
import { isJobEnded, type JobState, type TaskState } from '../../core/states.js';
import type { RetryPolicy } from '../../spec/plan.js';
import type { BackendName } from '../../spec/schema.js';
import { Query, type Tx } from './db.js';
import { addEvent } from './events.js';
import { attemptId } from './ids.js';
import type { LoadedJob } from './job-cache.js';

export type { LoadedJob } from './job-cache.js';

type Id = { id: string };

const JOB = new Query((k, $: Id) => k.selectFrom('jobs').select(['state', 'cancel_requested', 'rev']).where('id', '=', $.id));
const TASKS = new Query((k, $: Id) => k.selectFrom('tasks')
  .select(['name', 'state', 'needs', 'retry', 'attempts', 'attempts_base', 'backend'])
  .where('job_id', '=', $.id).orderBy('position'));

/**
 * The job's snapshot as of now. Reads the job's row for its `rev`, and the task rows only when
 * neither this transaction nor the cache holds the snapshot at that rev.
 */
export function loadJob(tx: Tx, jobId: string): LoadedJob | undefined {
  const job = tx.sql.get(JOB, { id: jobId });
  if (!job) return undefined;
  const seen = tx.seen.get(jobId);
  if (seen?.rev === job.rev) return seen;
  const cached = tx.cache.get(jobId, job.rev);
  if (cached) return cached;

  const snapshots = new Map<string, TaskSnapshot>();
  const backends = new Map<string, BackendName>();
  const rows = tx.sql.all(TASKS, { id: jobId });
  for (const r of rows) {
    snapshots.set(r.name, {
      state: r.state,
      needs: JSON.parse(r.needs) as string[],
      retry: JSON.parse(r.retry) as RetryPolicy,
      attempts: r.attempts,
      attemptsBase: r.attempts_base,
    });
    backends.set(r.name, r.backend);
  }
  tx.cache.stats.loads++;
  tx.cache.stats.taskRows += rows.length;
  const loaded: LoadedJob = {
    id: jobId, rev: job.rev, snapshot: jobSnapshot(snapshots, job.state, job.cancel_requested === 1), backends,
  };
  tx.seen.set(jobId, loaded);
  return loaded;
}

/** Runs the event through the state machine and persists the result when it is accepted. */
export function apply(tx: Tx, job: LoadedJob, event: JobEvent): Transition {
  const t = transition(job.snapshot, event, tx.now);
  if (t.ok) persist(tx, job, event, t.next, t.effects);
  return t;
}

const UPDATE_TASK = new Query((k, $: { jobId: string; name: string; state: TaskState; attempts: number; base: number }) =>
  k.updateTable('tasks').set({ state: $.state, attempts: $.attempts, attempts_base: $.base })
    .where('job_id', '=', $.jobId).where('name', '=', $.name));
type JobUpdate = { id: string; state: JobState; cancel: number; now: number };
const UPDATE_JOB = new Query((k, $: JobUpdate) =>
  k.updateTable('jobs').set((eb) => ({ state: $.state, cancel_requested: $.cancel, updated_at: $.now, rev: eb('rev', '+', 1) }))
    .where('id', '=', $.id).returning('rev'));
const UPDATE_JOB_ENDED = new Query((k, $: JobUpdate & { endedAt: number | null }) =>
  k.updateTable('jobs')
    .set((eb) => ({ state: $.state, cancel_requested: $.cancel, updated_at: $.now, ended_at: $.endedAt, rev: eb('rev', '+', 1) }))
    .where('id', '=', $.id).returning('rev'));

export function persist(tx: Tx, job: LoadedJob, event: JobEvent, next: JobSnapshot, effects: readonly Effect[]): void {
  const prev = job.snapshot;
  if (next === prev && effects.length === 0) return;
  // Only tasks an effect names can have changed: the machine announces every state change, and
  // attempts/attemptsBase change only along with one. Scanning all tasks instead costs more
  // than the rest of the event on jobs of thousands of tasks (V8 is slow on records that
  // large). If that stopped holding, rows and cached snapshots would differ: the random-jobs
  // test in test/store/cache.test.ts compares cached runs with runs reloading every event.
  const touched = new Set<string>();
  for (const e of effects) if (e.type !== 'job_state') touched.add(e.task);
  for (const name of touched) {
    const t = next.tasks.get(name);
    const p = prev.tasks.get(name);
    if (t === undefined || (p && p.state === t.state && p.attempts === t.attempts && p.attemptsBase === t.attemptsBase)) continue;
    tx.sql.run(UPDATE_TASK, { jobId: job.id, name, state: t.state, attempts: t.attempts, base: t.attemptsBase });
  }
  const update: JobUpdate = { id: job.id, state: next.state, cancel: next.cancelRequested ? 1 : 0, now: tx.now };
  const changed = effects.findLast((e): e is Extract<Effect, { type: 'job_state' }> => e.type === 'job_state');
  // A job reopened by retry is no longer ended.
  const row = changed
    ? tx.sql.get(UPDATE_JOB_ENDED, { ...update, endedAt: isJobEnded(changed.to) ? tx.now : null })
    : tx.sql.get(UPDATE_JOB, update);
  if (!row) throw new Error(`job ${job.id} vanished while being updated`);
  // The rows now hold `next`: the job's next event in this process need not read them again.
  tx.seen.set(job.id, { id: job.id, rev: row.rev, snapshot: next, backends: job.backends });
  for (const e of effects) carryOut(tx, job, event, e);
}

const INSERT_ATTEMPT = new Query((k, $: { id: string; jobId: string; task: string; n: number; backend: BackendName; now: number; notBefore: number }) =>
  k.insertInto('attempts').values({
    id: $.id, job_id: $.jobId, task: $.task, number: $.n, backend: $.backend, state: 'queued', queued_at: $.now,
    not_before: $.notBefore, worker: null, lease_expires_at: null, fence: 0, started_at: null, ended_at: null,
    outcome: null, stop_requested: null, log_bytes: 0, log_truncated: 0,
  }));
const DROP_ATTEMPT = new Query((k, $: { id: string; now: number; outcome: string }) =>
  k.updateTable('attempts').set({ state: 'ended', ended_at: $.now, outcome: $.outcome })
    .where('id', '=', $.id).where('state', '=', 'queued'));
// The first reason stands; the worker sees it on its next renewal.
const STOP_ATTEMPT = new Query((k, $: { id: string; reason: string }) =>
  k.updateTable('attempts').set({ stop_requested: $.reason })
    .where('id', '=', $.id).where('state', '=', 'running').where('stop_requested', 'is', null));

function carryOut(tx: Tx, job: LoadedJob, event: JobEvent, e: Effect): void {
  switch (e.type) {
    case 'task_state':
      addEvent(tx, job.id, { type: 'task_state', task: e.task, from: e.from, to: e.to });
      return;
    case 'job_state':
      addEvent(tx, job.id, { type: 'job_state', from: e.from, to: e.to });
      return;
    case 'enqueue_attempt': {
      const backend = job.backends.get(e.task);
      if (backend === undefined) throw new Error(`job ${job.id} has no task "${e.task}"`);
      tx.sql.run(INSERT_ATTEMPT, {
        id: attemptId(job.id, e.task, e.attempt), jobId: job.id, task: e.task, n: e.attempt, backend, now: tx.now, notBefore: e.notBefore,
      });
      addEvent(tx, job.id, { type: 'attempt', task: e.task, attempt: e.attempt, state: 'queued', outcome: null });
      tx.changes.queued = true;
      return;
    }
    case 'drop_attempt': {
      const outcome = { kind: 'canceled', reason: event.type === 'cancel' ? event.reason : 'dropped' } as const;
      const n = tx.sql.run(DROP_ATTEMPT, { id: attemptId(job.id, e.task, e.attempt), now: tx.now, outcome: JSON.stringify(outcome) });
      if (n > 0) addEvent(tx, job.id, { type: 'attempt', task: e.task, attempt: e.attempt, state: 'ended', outcome });
      return;
    }
    case 'stop_attempt': {
      const id = attemptId(job.id, e.task, e.attempt);
      if (tx.sql.run(STOP_ATTEMPT, { id, reason: e.reason }) > 0) tx.changes.stops.push({ attemptId: id, reason: e.reason });
      return;
    }
  }
}
