// The Store: everything Wharf keeps. Dialect-neutral: nothing here may assume SQLite, so the
// PostgreSQL store can implement the same interface.
import type { AttemptOutcome, JobState, TaskState } from '../core/states.js';
import type { JobList, JobView, LogEntry, LogStream, WharfEvent } from '../spec/api.js';
import type { TaskPlan } from '../spec/plan.js';
import type { BackendName, JobSpec } from '../spec/schema.js';

/** A worker's hold on one attempt. Every write made under it is fenced by (attemptId, fence). */
export interface Claim {
  attemptId: string;
  jobId: string;
  task: string;
  attempt: number;
  /** Increases on every claim of the attempt; writes carrying an older one are refused. */
  fence: number;
  workerId: string;
  backend: BackendName;
  leaseExpiresAt: number;
  plan: TaskPlan;
  /** Set when a worker took over a live run (adoptAttempt) rather than claiming a queued attempt. */
  adopted?: {
    /** When the run started (the timeout counts from here). */
    startedAt: number | null;
    /** Where the stored output ends, to follow the run's logs on from there. */
    logCursor: string | null;
  };
}

/** The result of a fenced write: refused once the lease has passed or another claim holds it. */
export type Fenced<T = void> = { ok: true; value: T } | { ok: false; reason: 'lease_lost' };

export interface Renewal {
  leaseExpiresAt: number;
  /** Set when someone asked for the attempt to stop (a cancel), with why. */
  stopRequested: string | null;
}

export type StoreError = { code: 'not_found'; message: string } | { code: 'conflict'; message: string };
export type StoreResult<T> = { ok: true; value: T } | { ok: false; error: StoreError };

export interface JobQuery {
  state?: JobState;
  /** Every pair must match. */
  labels?: Record<string, string>;
  /** Opaque, from a previous page's nextCursor. */
  cursor?: string;
  limit: number;
}

export interface LogQuery {
  jobId: string;
  /** One task's entries; every task of the job when omitted. */
  task?: string;
  /** Only this attempt; all attempts in order when omitted. */
  attempt?: number;
  /** Entries with an id greater than this. */
  after?: number;
  limit: number;
}

export interface NewLogChunk {
  stream: LogStream;
  time: number;
  text: string;
  /** Bytes of output this chunk stands for (counted against the cap). */
  bytes: number;
  /** The log cap was reached here; the attempt's log is marked truncated. */
  truncated?: boolean;
}

/** An attempt whose lease passed without renewal: its worker is presumed dead. */
export interface ExpiredAttempt {
  attemptId: string;
  jobId: string;
  task: string;
  attempt: number;
  fence: number;
  backend: BackendName;
  workerId: string;
}

/** In-process nudges after a commit. They only wake waiters early; readers still re-read. */
export type StoreChange =
  | { type: 'attempts_queued' }
  | { type: 'events' }
  | { type: 'logs'; jobId: string; task: string }
  | { type: 'stop_requested'; attemptId: string; reason: string };

export interface ClaimRequest {
  workerId: string;
  backends: readonly BackendName[];
  leaseMs: number;
  /** Claim at most this many. */
  limit: number;
  /** Only attempts of this job (a CLI running its own job in-process claims nothing else). */
  jobId?: string;
}

/** Live attempts of one backend (queueStats). */
export interface BackendQueueStats {
  /** Queued attempts whose time has come: a worker may claim them now. */
  claimable: number;
  /** Queued attempts waiting for a retry's backoff to end. */
  backoff: number;
  /** `notBefore` of the claimable attempt that has waited longest (ms), null when none. */
  oldestClaimableAt: number | null;
  running: number;
}

/** Counts for monitoring, read at one moment. */
export interface QueueStats {
  /** Every state, 0 when no job is in it. */
  jobs: Record<JobState, number>;
  /** Every state, 0 when no task is in it. */
  tasks: Record<TaskState, number>;
  /** Only backends with queued or running attempts. */
  backends: Partial<Record<BackendName, BackendQueueStats>>;
}

export interface Store {
  /** Names everything this Wharf installation starts (labels), shared by all its processes. */
  readonly instanceId: string;

  createJob(spec: JobSpec, opts: { defaultBackend: BackendName }): Promise<JobView>;
  /**
   * createJob once per client key (the Idempotency-Key of a submit): a key seen before gives the
   * job made with it (`created: false`) when the spec is the same, a conflict when it is not.
   */
  createJobOnce(spec: JobSpec, opts: { defaultBackend: BackendName; key: string }): Promise<StoreResult<{ job: JobView; created: boolean }>>;
  getJob(id: string): Promise<JobView | undefined>;
  /** The job's state (and one task's), cheaply: followers ask on every change. */
  getStates(jobId: string, task?: string): Promise<{ job: JobState; task: TaskState | undefined } | undefined>;
  listJobs(q: JobQuery): Promise<JobList>;
  cancelJob(id: string, reason: string): Promise<StoreResult<JobView>>;
  /** Reopens the failed, upstream_failed and canceled tasks of a job that ended. */
  retryJob(id: string): Promise<StoreResult<JobView>>;

  /** Atomically takes up to `limit` queued attempts whose time has come. */
  claimAttempts(req: ClaimRequest): Promise<Claim[]>;
  renewLease(claim: Claim, leaseMs: number): Promise<Fenced<Renewal>>;
  markStarted(claim: Claim): Promise<Fenced>;
  /** `cursor`: the backend's resume point just after these chunks (stored for adoption). */
  appendLogs(claim: Claim, chunks: readonly NewLogChunk[], cursor?: string): Promise<Fenced>;
  /** Records the outcome and applies it to the job (retry, dependants, job end). */
  finishAttempt(claim: Claim, outcome: AttemptOutcome): Promise<Fenced>;

  /** Running attempts whose lease has passed. */
  expiredAttempts(): Promise<ExpiredAttempt[]>;
  /**
   * Takes over an expired attempt whose run is still there (a backend that can adopt), with a
   * new lease and fence; undefined if it was renewed, ended or taken meanwhile.
   */
  adoptAttempt(a: ExpiredAttempt, req: { workerId: string; leaseMs: number }): Promise<Claim | undefined>;
  /** Ends an expired attempt as `lost` (retried if its policy allows); false if it was renewed or ended meanwhile. */
  markLost(a: ExpiredAttempt, reason: string): Promise<boolean>;
  /** The state of the attempts with these ids (for reaping what a backend still holds). */
  attemptStates(ids: readonly string[]): Promise<Map<string, { state: 'queued' | 'running' | 'ended'; leaseExpiresAt: number | null }>>;
  /** Earliest time a queued attempt of these backends becomes claimable, if any. */
  nextQueuedAt(backends: readonly BackendName[]): Promise<number | undefined>;
  /** Jobs and tasks by state, live attempts by backend, as of `now` (for /metrics: cheap, aggregates only). */
  queueStats(now: number): Promise<QueueStats>;

  readLogs(q: LogQuery): Promise<LogEntry[]>;
  readEvents(after: number, limit: number, jobId?: string): Promise<WharfEvent[]>;
  /** The newest event's id (0 when there is none): where a follower of what happens next starts. */
  latestEventId(): Promise<number>;

  onChange(listener: (c: StoreChange) => void): () => void;
  /** Throws if the store cannot answer. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
