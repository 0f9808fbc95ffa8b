// The Backend: where attempts run. It knows nothing of the store; the worker drives it.
import type { LogStream } from '../spec/api.js';
import type { TaskPlan } from '../spec/plan.js';
import type { BackendName } from '../spec/schema.js';

/** Label keys on everything Wharf starts, so nothing it starts is ever lost. */
export const LABELS = {
  instance: 'wharf.dev/instance',
  job: 'wharf.dev/job',
  task: 'wharf.dev/task',
  attempt: 'wharf.dev/attempt',
  attemptId: 'wharf.dev/attempt-id',
} as const;

export type Labels = Record<string, string>;

export interface StartRequest {
  /** Deterministic name of the run (derived from the attempt), unique per instance. */
  runId: string;
  labels: Labels;
  plan: TaskPlan;
  /** The complete environment: the task's env plus Wharf's own (WHARF_JOB_ID, …). */
  env: Record<string, string>;
  /** The task's secret values, apart from `env` so that a backend can keep them out of what it shows. */
  secrets?: RunSecrets;
}

/** Secret values for one run. The worker masks them in everything it stores; a backend never logs them. */
export interface RunSecrets {
  /** Environment variables (none of them also in `env`). */
  env: Record<string, string>;
  /** Files at absolute container paths, readable by the task's user only (mode 0400). Container backends only. */
  files: { path: string; value: string }[];
}

/** How a run ended, as the backend saw it. */
export type RunExit =
  | { kind: 'exited'; code: number }
  | { kind: 'signaled'; signal: number; signalName: string }
  /** Killed by the kernel's OOM killer; the limit is the run's memory limit when it had one. */
  | { kind: 'oom_killed'; memoryLimitBytes?: number }
  | { kind: 'start_failed'; reason: string }
  | { kind: 'error'; reason: string };

export type RunState =
  /** `message`: why it is not running yet, as the platform says it (a pod the scheduler cannot place). */
  | { phase: 'starting'; message?: string }
  | { phase: 'running'; startedAt: number }
  | { phase: 'ended'; exit: RunExit; endedAt: number };

export interface RunEvent {
  runId: string;
  state: RunState;
}

export interface RunLogChunk {
  stream: Exclude<LogStream, 'system'>;
  time: number;
  data: Buffer;
  /**
   * Where this chunk ends in the run's output, for backends that can resume a stream (Docker's
   * RFC 3339 nano timestamp): `logs(…, {after})` yields only what comes after it.
   */
  cursor?: string;
}

export interface OwnedRun {
  runId: string;
  labels: Labels;
  state: RunState;
}

export interface Backend {
  readonly name: BackendName;
  /** Whether a restarted worker can take over a run that is still going (log pipes survive). */
  readonly canAdopt: boolean;
  /**
   * Creates and starts the run. Resolves once it is created; how it goes arrives as events.
   * A run that cannot start still resolves, then reports `start_failed`: only failures of the
   * backend itself reject.
   */
  start(req: StartRequest): Promise<void>;
  /** One stream of state changes for every run of this backend (a watch, never a poll per run). */
  subscribe(listener: (e: RunEvent) => void): () => void;
  inspect(runId: string): Promise<RunState | undefined>;
  /**
   * Output in order; with `follow` it ends when the run has ended and its output is drained.
   * `after` (a chunk's cursor) resumes a stream without repeating a line, e.g. after adoption.
   */
  logs(runId: string, opts: { follow: boolean; after?: string }): AsyncIterable<RunLogChunk>;
  /** Asks the run to stop (SIGTERM or equivalent), kills it after `graceMs`. Idempotent. */
  stop(runId: string, graceMs: number): Promise<void>;
  /** Frees everything the run held. Idempotent. */
  remove(runId: string): Promise<void>;
  /** Runs whose labels include every pair of `selector`. */
  listOwned(selector: Labels): Promise<OwnedRun[]>;
  close(): Promise<void>;
}
