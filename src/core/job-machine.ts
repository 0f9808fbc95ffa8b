// The job state machine: transition(snapshot, event, now) → next snapshot + effects. Pure.
//
// Job:  queued → running → succeeded | failed | canceled
//       (a job ends exactly when every task is terminal; `retry` reopens a failed or canceled job)
// Task: pending → ready → running → succeeded
//                          running → retrying → running …   (while attempts ≤ 1 + retries.limit)
//                          running → failed → (dependants) upstream_failed
//       pending | ready | retrying → canceled on cancel; running → canceled when its attempt ends
//
// The store persists the snapshot and carries out the effects (create/drop attempt rows, ask
// the owning worker to stop one); nothing here reads a clock or touches I/O.
import type { RetryPolicy } from '../spec/plan.js';
import { backoffMs } from './backoff.js';
import {
  isJobEnded, isTaskTerminal, type AttemptOutcome, type JobState, type TaskState,
} from './states.js';

export interface TaskSnapshot {
  state: TaskState;
  needs: readonly string[];
  retry: RetryPolicy;
  /** Number of the newest attempt (0 before the first one). */
  attempts: number;
  /** Attempt count when the job was last retried by hand; the retry limit counts from here. */
  attemptsBase: number;
}

export interface JobSnapshot {
  state: JobState;
  cancelRequested: boolean;
  /** A Map, not a record: it is copied on every change, and jobs may have thousands of tasks. */
  tasks: ReadonlyMap<string, TaskSnapshot>;
  /** Who needs each task. Derived once (the graph never changes) and carried from snapshot to snapshot. */
  dependants: ReadonlyMap<string, readonly string[]>;
}

/** A snapshot of tasks as loaded or created; computes the dependants index. */
export function jobSnapshot(tasks: ReadonlyMap<string, TaskSnapshot>, state: JobState = 'queued', cancelRequested = false): JobSnapshot {
  const dependants = new Map<string, string[]>();
  for (const [name, t] of tasks) {
    for (const need of t.needs) {
      const list = dependants.get(need);
      if (list) list.push(name);
      else dependants.set(need, [name]);
    }
  }
  return { state, cancelRequested, tasks, dependants };
}

export type JobEvent =
  | { type: 'created' }
  | { type: 'attempt_claimed'; task: string; attempt: number }
  | { type: 'attempt_ended'; task: string; attempt: number; outcome: AttemptOutcome }
  | { type: 'cancel'; reason: string }
  | { type: 'retry' };

export type Effect =
  | { type: 'enqueue_attempt'; task: string; attempt: number; notBefore: number }
  | { type: 'drop_attempt'; task: string; attempt: number }
  | { type: 'stop_attempt'; task: string; attempt: number; reason: string }
  | { type: 'task_state'; task: string; from: TaskState; to: TaskState }
  | { type: 'job_state'; from: JobState; to: JobState };

export type Transition =
  | { ok: true; next: JobSnapshot; effects: Effect[] }
  | { ok: false; code: 'conflict'; message: string };

export function transition(job: JobSnapshot, event: JobEvent, now: number): Transition {
  const b = new Builder(job);
  switch (event.type) {
    case 'created':
      if (job.state !== 'queued') return conflict('the job was already created');
      for (const name of job.tasks.keys()) b.promoteIfReady(name, now);
      break;
    case 'attempt_claimed': {
      const t = b.task(event.task);
      if (!t || t.attempts !== event.attempt || (t.state !== 'ready' && t.state !== 'retrying') || job.cancelRequested) {
        return conflict(`attempt ${event.attempt} of task "${event.task}" is not waiting to start`);
      }
      b.setTask(event.task, 'running');
      break;
    }
    case 'attempt_ended': {
      const t = b.task(event.task);
      // An attempt that is no longer the task's running one changes nothing (already handled).
      if (!t || t.attempts !== event.attempt || t.state !== 'running') return { ok: true, next: job, effects: [] };
      b.attemptEnded(event.task, event.outcome, now);
      break;
    }
    case 'cancel':
      if (isJobEnded(job.state)) return conflict(`the job already ended (${job.state})`);
      if (job.cancelRequested) return { ok: true, next: job, effects: [] };
      b.cancel(event.reason);
      break;
    case 'retry':
      if (job.state !== 'failed' && job.state !== 'canceled') {
        return conflict(job.state === 'succeeded' ? 'the job succeeded; nothing to retry' : `the job is still ${job.state}`);
      }
      b.retry(now);
      break;
  }
  b.settleJobState(event.type === 'attempt_claimed');
  return { ok: true, next: b.snapshot(), effects: b.effects };
}

function conflict(message: string): Transition {
  return { ok: false, code: 'conflict', message };
}

/** Accumulates changes to a copy of the snapshot (made on the first change) and their effects. */
class Builder {
  readonly effects: Effect[] = [];
  private tasks: ReadonlyMap<string, TaskSnapshot>;
  private copied: Map<string, TaskSnapshot> | undefined;
  private state: JobState;
  private cancelRequested: boolean;

  constructor(private readonly job: JobSnapshot) {
    this.tasks = job.tasks;
    this.state = job.state;
    this.cancelRequested = job.cancelRequested;
  }

  task(name: string): TaskSnapshot | undefined {
    return this.tasks.get(name);
  }

  setTask(name: string, to: TaskState, patch: Partial<TaskSnapshot> = {}): void {
    const t = this.tasks.get(name);
    if (!t) return;
    if (t.state !== to) this.effects.push({ type: 'task_state', task: name, from: t.state, to });
    this.copied ??= new Map(this.job.tasks);
    this.tasks = this.copied;
    this.copied.set(name, { ...t, ...patch, state: to });
  }

  /** A pending task whose needs have all succeeded becomes ready, with its next attempt queued. */
  promoteIfReady(name: string, now: number): void {
    const t = this.tasks.get(name);
    if (!t || t.state !== 'pending' || this.cancelRequested) return;
    if (!t.needs.every((n) => this.tasks.get(n)?.state === 'succeeded')) return;
    const attempt = t.attempts + 1;
    this.setTask(name, 'ready', { attempts: attempt });
    this.effects.push({ type: 'enqueue_attempt', task: name, attempt, notBefore: now });
  }

  attemptEnded(name: string, outcome: AttemptOutcome, now: number): void {
    const t = this.tasks.get(name);
    if (!t) return;
    if (outcome.kind === 'succeeded') {
      this.setTask(name, 'succeeded');
      for (const d of this.job.dependants.get(name) ?? []) this.promoteIfReady(d, now);
      return;
    }
    if (this.cancelRequested) {
      this.setTask(name, 'canceled');
      return;
    }
    const used = t.attempts - t.attemptsBase;
    if (used < 1 + t.retry.limit) {
      const attempt = t.attempts + 1;
      this.setTask(name, 'retrying', { attempts: attempt });
      this.effects.push({ type: 'enqueue_attempt', task: name, attempt, notBefore: now + backoffMs(t.retry, used - 1) });
      return;
    }
    this.setTask(name, 'failed');
    this.failDependants(name);
  }

  private failDependants(name: string): void {
    for (const d of this.job.dependants.get(name) ?? []) {
      if (this.tasks.get(d)?.state !== 'pending') continue;
      this.setTask(d, 'upstream_failed');
      this.failDependants(d);
    }
  }

  cancel(reason: string): void {
    this.cancelRequested = true;
    for (const [name, t] of this.job.tasks) {
      if (t.state === 'pending') this.setTask(name, 'canceled');
      else if (t.state === 'ready' || t.state === 'retrying') {
        this.setTask(name, 'canceled');
        this.effects.push({ type: 'drop_attempt', task: name, attempt: t.attempts });
      } else if (t.state === 'running') {
        this.effects.push({ type: 'stop_attempt', task: name, attempt: t.attempts, reason });
      }
    }
  }

  retry(now: number): void {
    this.cancelRequested = false;
    const reopened: string[] = [];
    for (const [name, t] of this.job.tasks) {
      if (t.state === 'failed' || t.state === 'upstream_failed' || t.state === 'canceled') {
        this.setTask(name, 'pending', { attemptsBase: t.attempts });
        reopened.push(name);
      }
    }
    for (const name of reopened) this.promoteIfReady(name, now);
  }

  /** The job's state follows from its tasks: it ends exactly when all of them are terminal. */
  settleJobState(claimed: boolean): void {
    let allTerminal = true;
    let allSucceeded = true;
    for (const t of this.tasks.values()) {
      allTerminal &&= isTaskTerminal(t.state);
      allSucceeded &&= t.state === 'succeeded';
      if (!allTerminal) break;
    }
    let to: JobState = this.state;
    if (allTerminal) {
      if (this.cancelRequested) to = 'canceled';
      else to = allSucceeded ? 'succeeded' : 'failed';
    } else if (isJobEnded(this.state) || claimed) {
      to = 'running'; // reopened by retry, or a first attempt has started
    }
    if (to !== this.state) {
      this.effects.push({ type: 'job_state', from: this.state, to });
      this.state = to;
    }
  }

  snapshot(): JobSnapshot {
    return { state: this.state, cancelRequested: this.cancelRequested, tasks: this.tasks, dependants: this.job.dependants };
  }
}
