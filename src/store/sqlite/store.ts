// The embedded SQLite store: one better-sqlite3 connection per process, WAL so a server and a
// CLI can share the file. Each method is one synchronous transaction (see db.ts).
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { AttemptOutcome, JobState, TaskState } from '../../core/states.js';
import type { JobList, JobView, LogEntry, WharfEvent } from '../../spec/api.js';
import type { BackendName, JobSpec } from '../../spec/schema.js';
import type {
  Claim, ClaimRequest, ExpiredAttempt, Fenced, JobQuery, LogQuery, NewLogChunk, QueueStats, Renewal, Store, StoreChange,
  StoreResult,
} from '../types.js';
import type { AdminStore } from '../admin.js';
import { SqliteAdmin } from './admin.js';
import type { WorkerRegistry } from '../workers.js';
import { SqliteWorkers } from './workers.js';
import { appendLogs } from './append-logs.js';
import { claimAttempts } from './claim.js';
import { createJob, createJobOnce } from './create-job.js';
import { Db } from './db.js';
import { latestEventId, readEvents } from './events.js';
import { markStarted, renewLease } from './fenced.js';
import { finishAttempt } from './finish.js';
import { cancelJob, retryJob } from './job-actions.js';
import type { JobCacheStats } from './job-cache.js';
import { listJobs } from './list-jobs.js';
import { adoptAttempt, expiredAttempts, markLost } from './lost.js';
import { migrate } from './migrations/index.js';
import { attemptStates, getStates, nextQueuedAt, readLogs } from './reads.js';
import { queueStats } from './stats.js';
import type { Tables } from './tables.js';
import { getJobView } from './views.js';

export interface SqliteStoreOptions {
  /** A file path, or ':memory:' (one connection only: for tests). */
  path: string;
  /** The clock, injectable so lease tests need not sleep. */
  now?: () => number;
  /** How long a write waits for another process's write lock (default 5 s). */
  busyTimeoutMs?: number;
}

export async function openSqliteStore(opts: SqliteStoreOptions): Promise<SqliteStore> {
  const now = opts.now ?? Date.now;
  const raw = new Database(opts.path);
  try {
    // busy_timeout first: switching to WAL needs the lock another opener may hold.
    raw.pragma(`busy_timeout = ${Math.max(0, Math.floor(opts.busyTimeoutMs ?? 5_000))}`);
    raw.pragma('journal_mode = WAL');
    // WAL + NORMAL: a power cut may lose the last commits, never corrupt the file.
    raw.pragma('synchronous = NORMAL');
    raw.pragma('foreign_keys = ON');
    migrate(raw, opts.path, now());
    const row = raw.prepare("SELECT value FROM meta WHERE key = 'instance_id'").get() as { value: string } | undefined;
    if (!row) throw new Error(`the database ${opts.path} has no instance id`);
    // Kysely builds and compiles the queries; db.ts runs them on this same connection.
    const k = new Kysely<Tables>({ dialect: new SqliteDialect({ database: raw }) });
    return new SqliteStore(new Db(raw, k, now), row.value);
  } catch (err) {
    raw.close();
    throw err;
  }
}

export class SqliteStore implements Store {
  /** Tokens, secrets and the audit log. */
  readonly admin: AdminStore;
  /** Who runs where, and when each worker was last heard from. */
  readonly workers: WorkerRegistry;

  constructor(private readonly db: Db, readonly instanceId: string) {
    this.admin = new SqliteAdmin(db.raw, db.clock);
    this.workers = new SqliteWorkers(db.raw, db.clock);
  }

  async createJob(spec: JobSpec, opts: { defaultBackend: BackendName }): Promise<JobView> {
    return this.db.write((tx) => createJob(tx, spec, opts.defaultBackend));
  }

  async createJobOnce(spec: JobSpec, opts: { defaultBackend: BackendName; key: string }): Promise<StoreResult<{ job: JobView; created: boolean }>> {
    return this.db.write((tx) => createJobOnce(tx, spec, opts.defaultBackend, opts.key));
  }

  async getJob(id: string): Promise<JobView | undefined> {
    return this.db.read((sql) => getJobView(sql, id));
  }

  async getStates(jobId: string, task?: string): Promise<{ job: JobState; task: TaskState | undefined } | undefined> {
    return this.db.read((sql) => getStates(sql, jobId, task));
  }

  async listJobs(q: JobQuery): Promise<JobList> {
    return this.db.read((sql) => listJobs(sql, q));
  }

  async cancelJob(id: string, reason: string): Promise<StoreResult<JobView>> {
    return this.db.write((tx) => cancelJob(tx, id, reason));
  }

  async retryJob(id: string): Promise<StoreResult<JobView>> {
    return this.db.write((tx) => retryJob(tx, id));
  }

  async claimAttempts(req: ClaimRequest): Promise<Claim[]> {
    return this.db.write((tx) => claimAttempts(tx, req));
  }

  async renewLease(claim: Claim, leaseMs: number): Promise<Fenced<Renewal>> {
    return this.db.write((tx) => renewLease(tx, claim, leaseMs));
  }

  async markStarted(claim: Claim): Promise<Fenced> {
    return this.db.write((tx) => markStarted(tx, claim));
  }

  async appendLogs(claim: Claim, chunks: readonly NewLogChunk[], cursor?: string): Promise<Fenced> {
    return this.db.write((tx) => appendLogs(tx, claim, chunks, cursor));
  }

  async finishAttempt(claim: Claim, outcome: AttemptOutcome): Promise<Fenced> {
    return this.db.write((tx) => finishAttempt(tx, claim, outcome));
  }

  async expiredAttempts(): Promise<ExpiredAttempt[]> {
    return expiredAttempts(this.db.sql, this.db.clock());
  }

  async adoptAttempt(a: ExpiredAttempt, req: { workerId: string; leaseMs: number }): Promise<Claim | undefined> {
    return this.db.write((tx) => adoptAttempt(tx, a, req));
  }

  async markLost(a: ExpiredAttempt, reason: string): Promise<boolean> {
    return this.db.write((tx) => markLost(tx, a, reason));
  }

  async attemptStates(ids: readonly string[]): Promise<Map<string, { state: 'queued' | 'running' | 'ended'; leaseExpiresAt: number | null }>> {
    return this.db.read((sql) => attemptStates(sql, ids));
  }

  async nextQueuedAt(backends: readonly BackendName[]): Promise<number | undefined> {
    return nextQueuedAt(this.db.sql, backends);
  }

  async queueStats(now: number): Promise<QueueStats> {
    return this.db.read((sql) => queueStats(sql, now));
  }

  async readLogs(q: LogQuery): Promise<LogEntry[]> {
    return readLogs(this.db.sql, q);
  }

  async latestEventId(): Promise<number> {
    return latestEventId(this.db.sql);
  }

  async readEvents(after: number, limit: number, jobId?: string): Promise<WharfEvent[]> {
    return readEvents(this.db.sql, after, limit, jobId);
  }

  onChange(listener: (c: StoreChange) => void): () => void {
    return this.db.onChange(listener);
  }

  /** Not part of Store: how often events had to read a job's task rows (tests, diagnostics). */
  jobCacheStats(): JobCacheStats {
    return { ...this.db.jobs.stats };
  }

  async ping(): Promise<void> {
    this.db.raw.prepare('SELECT 1').get();
  }

  async close(): Promise<void> {
    // Kysely never opened a connection of its own (db.ts runs its queries), so closing the
    // handle is the whole of it.
    if (this.db.raw.open) this.db.raw.close();
  }
}
