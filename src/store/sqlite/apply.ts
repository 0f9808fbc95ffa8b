// Loads a job's snapshot for the state machine and persists what a transition decided: the
// snapshot's changed rows, then each effect in order (attempt rows, events, stop requests).
import { transition, type Effect, type JobEvent, type JobSnapshot, type TaskSnapshot, type Transition } from '../../core/job-machine.js';
import { isJobEnded, type JobState, type TaskState } from '../../core/states.js';
import type { RetryPolicy } from '../../spec/plan.js';
import type { BackendName } from '../../spec/schema.js';
import { Query, type Sql, type Tx } from './db.js';
import { addEvent } from './events.js';
import { attemptId } from './ids.js';

export interface LoadedJob {
  id: string;
  snapshot: JobSnapshot;
  /** Per task: where its attempts run and its plan as stored (JSON), for claims. */
  tasks: ReadonlyMap<string, { backend: BackendName; plan: string }>;
}

type Id = { id: string };

const JOB = new Query((k, $: Id) => k.selectFrom('jobs').select(['state', 'cancel_requested']).where('id', '=', $.id));
const TASKS = new Query((k, $: Id) => k.selectFrom('tasks')
  .select(['name', 'state', 'needs', 'retry', 'plan', 'attempts', 'attempts_base', 'backend'])
  .where('job_id', '=', $.id).orderBy('position'));

export function loadJob(sql: Sql, jobId: string): LoadedJob | undefined {
  const job = sql.get(JOB, { id: jobId });
  if (!job) return undefined;
  const snapshots: Record<string, TaskSnapshot> = {};
  const tasks = new Map<string, { backend: BackendName; plan: string }>();
  for (const r of sql.all(TASKS, { id: jobId })) {
    snapshots[r.name] = {
      state: r.state,
      needs: JSON.parse(r.needs) as string[],
      retry: JSON.parse(r.retry) as RetryPolicy,
      attempts: r.attempts,
      attemptsBase: r.attempts_base,
    };
    tasks.set(r.name, { backend: r.backend, plan: r.plan });
  }
  return { id: jobId, snapshot: { state: job.state, cancelRequested: job.cancel_requested === 1, tasks: snapshots }, tasks };
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
  k.updateTable('jobs').set({ state: $.state, cancel_requested: $.cancel, updated_at: $.now }).where('id', '=', $.id));
const UPDATE_JOB_ENDED = new Query((k, $: JobUpdate & { endedAt: number | null }) =>
  k.updateTable('jobs').set({ state: $.state, cancel_requested: $.cancel, updated_at: $.now, ended_at: $.endedAt }).where('id', '=', $.id));

export function persist(tx: Tx, job: LoadedJob, event: JobEvent, next: JobSnapshot, effects: readonly Effect[]): void {
  const prev = job.snapshot;
  if (next === prev && effects.length === 0) return;
  for (const [name, t] of Object.entries(next.tasks)) {
    const p = prev.tasks[name];
    if (p && p.state === t.state && p.attempts === t.attempts && p.attemptsBase === t.attemptsBase) continue;
    tx.sql.run(UPDATE_TASK, { jobId: job.id, name, state: t.state, attempts: t.attempts, base: t.attemptsBase });
  }
  const update: JobUpdate = { id: job.id, state: next.state, cancel: next.cancelRequested ? 1 : 0, now: tx.now };
  const changed = effects.findLast((e): e is Extract<Effect, { type: 'job_state' }> => e.type === 'job_state');
  // A job reopened by retry is no longer ended.
  if (changed) tx.sql.run(UPDATE_JOB_ENDED, { ...update, endedAt: isJobEnded(changed.to) ? tx.now : null });
  else tx.sql.run(UPDATE_JOB, update);
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
      const backend = job.tasks.get(e.task)?.backend;
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
