// The PostgreSQL store, for several servers and workers sharing one database: a small pool,
// one transaction per write (db.ts), changes announced across processes by LISTEN/NOTIFY. A busy
// worker's starts and finishes are joined into one write each (coalesce.ts), and the hot path's
// statements are sent by name, planned once per connection (prepared.ts).
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { AttemptOutcome, JobState, TaskState } from '../../core/states.js';
import type { JobList, JobView, LogEntry, WharfEvent } from '../../spec/api.js';
import type { BackendName, JobSpec } from '../../spec/schema.js';
import type { AdminStore } from '../admin.js';
import type { JobCacheStats } from '../sqlite/job-cache.js';
import type {
  Claim, ClaimRequest, ExpiredAttempt, Fenced, JobQuery, LogQuery, NewLogChunk, QueueStats, Renewal, Store, StoreChange,
  StoreResult,
} from '../types.js';
import { PgAdmin } from './admin.js';
import { PgWorkers } from './workers.js';
import { appendLogs } from './append-logs.js';
import { claimAttempts } from './claim.js';
import { Coalescer, type CoalescerStats } from './coalesce.js';
import { createJob, createJobOnce } from './create-job.js';
import { PgDb } from './db.js';
import { latestEventId, readEvents } from './events.js';
import { markStarted, renewLease } from './fenced.js';
import { finishAttempts, type Finish } from './finish.js';
import { cancelJob, retryJob } from './job-actions.js';
import { listJobs } from './list-jobs.js';
import { ChangeListener } from './listener.js';
import { adoptAttempt, expiredAttempts, markLost } from './lost.js';
import { migrate, SchemaTooNewError } from './migrations/index.js';
import { namingPool } from './prepared.js';
import { attemptStates, getStates, nextQueuedAt, readLogs } from './reads.js';
import { queueStats } from './stats.js';
import type { Tables } from './tables.js';
import { passwordOf, redactDbUrl, unavailable } from './url.js';
import { getJobView } from './views.js';

export interface PostgresStoreOptions {
  /** postgres://user:password@host:port/database (libpq-style parameters as pg reads them). */
  url: string;
  /** The clock, injectable so lease tests need not sleep. Never the database's clock. */
  now?: () => number;
  /** Connections in the pool (default 10), plus one for LISTEN. */
  poolSize?: number;
  /** How long to wait for a connection before failing (default 10 s). */
  connectTimeoutMs?: number;
  /**
   * Send the hot path's statements by name, parsed and planned once per connection (default
   * true). Off for a pooler that cannot keep them (PgBouncer in transaction mode before 1.21).
   */
  preparedStatements?: boolean;
}

const INT8 = 20;
/** Most starts or finishes joined in one write: enough to amortize a transaction, few enough to keep it short. */
const BATCH = 100;

/** BIGINT columns (times, ids, counts) as numbers: all stay far below 2^53. */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8 && format !== 'binary' ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

export async function openPostgresStore(opts: PostgresStoreOptions): Promise<PostgresStore> {
  const now = opts.now ?? Date.now;
  const url = redactDbUrl(opts.url);
  const secret = passwordOf(opts.url);
  const config: pg.ClientConfig = {
    connectionString: opts.url, types, application_name: 'wharf', keepAlive: true, keepAliveInitialDelayMillis: 10_000,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 10_000,
  };
  const pool = new pg.Pool({ ...config, max: opts.poolSize ?? 10 });
  // An idle connection dropped by the server (a restart, a failover) is only removed from the
  // pool; without a handler the error would end the process. The next query gets a new one,
  // or fails, and that failure reaches its caller. Nothing is logged: the store's users see
  // the failures that matter through ping() and their own calls.
  pool.on('error', () => undefined);
  const k = new Kysely<Tables>({ dialect: new PostgresDialect({ pool: opts.preparedStatements === false ? pool : namingPool(pool) }) });
  const db = new PgDb(k, now);
  const listener = new ChangeListener(config, db.origin, (changes) => db.emit(changes));
  try {
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (e) {
      throw unavailable(url, e, secret);
    }
    let failed: unknown;
    try {
      await migrate(client, url, now());
    } catch (e) {
      failed = e;
      throw e instanceof SchemaTooNewError ? e : unavailable(url, e, secret);
    } finally {
      // A failed connection is dropped rather than reused (it may still hold the migration lock).
      client.release(failed instanceof Error ? failed : undefined);
    }
    const row = await k.selectFrom('meta').select('value').where('key', '=', 'instance_id').executeTakeFirst()
      .catch((e: unknown) => { throw unavailable(url, e, secret); });
    if (!row) throw new Error(`the database ${url} has no instance id`);
    await listener.start().catch((e: unknown) => { throw unavailable(url, e, secret); });
    return new PostgresStore(db, listener, row.value);
  } catch (err) {
    await listener.close();
    await k.destroy().catch(() => undefined);
    throw err;
  }
}

export class PostgresStore implements Store {
  /** Tokens, secrets and the audit log. */
  readonly admin: AdminStore;
  /** The registry of live workers. */
  readonly workers: PgWorkers;
  private closing: Promise<void> | undefined;
  /** Starts and finishes made while others are in flight go together (coalesce.ts). */
  private readonly starts: Coalescer<Claim, Fenced>;
  private readonly finishes: Coalescer<Finish, Fenced>;

  constructor(private readonly db: PgDb, private readonly listener: ChangeListener, readonly instanceId: string) {
    this.admin = new PgAdmin(db.k, db.clock);
    this.workers = new PgWorkers(db.k, db.clock);
    const start = (claims: readonly Claim[]): Promise<Fenced[]> => markStarted(db.k, claims, db.clock());
    const finish = (items: readonly Finish[]): Promise<Fenced[]> => db.write((tx) => finishAttempts(tx, items));
    this.starts = new Coalescer(start, { maxBatch: BATCH, maxInFlight: 2, key: (c) => c.attemptId });
    this.finishes = new Coalescer(finish, { maxBatch: BATCH, maxInFlight: 2, key: (f) => f.claim.attemptId });
  }

  async createJobOnce(spec: JobSpec, opts: { defaultBackend: BackendName; key: string }): Promise<StoreResult<{ job: JobView; created: boolean }>> {
    return this.db.write((tx) => createJobOnce(tx, spec, opts.defaultBackend, opts.key));
  }

  async createJob(spec: JobSpec, opts: { defaultBackend: BackendName }): Promise<JobView> {
    return this.db.write((tx) => createJob(tx, spec, opts.defaultBackend));
  }

  async getJob(id: string): Promise<JobView | undefined> {
    return getJobView(this.db.k, id); // one statement: one snapshot
  }

  async getStates(jobId: string, task?: string): Promise<{ job: JobState; task: TaskState | undefined } | undefined> {
    return getStates(this.db.k, jobId, task);
  }

  async listJobs(q: JobQuery): Promise<JobList> {
    return this.db.read((k) => listJobs(k, q));
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
    return renewLease(this.db.k, claim, leaseMs, this.db.clock());
  }

  async markStarted(claim: Claim): Promise<Fenced> {
    return this.starts.push(claim);
  }

  async appendLogs(claim: Claim, chunks: readonly NewLogChunk[], cursor?: string): Promise<Fenced> {
    return this.db.write((tx) => appendLogs(tx, claim, chunks, cursor));
  }

  async finishAttempt(claim: Claim, outcome: AttemptOutcome): Promise<Fenced> {
    return this.finishes.push({ claim, outcome });
  }

  async expiredAttempts(): Promise<ExpiredAttempt[]> {
    return expiredAttempts(this.db.k, this.db.clock());
  }

  async adoptAttempt(a: ExpiredAttempt, req: { workerId: string; leaseMs: number }): Promise<Claim | undefined> {
    return this.db.write((tx) => adoptAttempt(tx, a, req));
  }

  async markLost(a: ExpiredAttempt, reason: string): Promise<boolean> {
    return this.db.write((tx) => markLost(tx, a, reason));
  }

  async attemptStates(ids: readonly string[]): Promise<Map<string, { state: 'queued' | 'running' | 'ended'; leaseExpiresAt: number | null }>> {
    return attemptStates(this.db.k, ids);
  }

  async nextQueuedAt(backends: readonly BackendName[]): Promise<number | undefined> {
    return nextQueuedAt(this.db.k, backends);
  }

  async queueStats(now: number): Promise<QueueStats> {
    return this.db.read((k) => queueStats(k, now));
  }

  async readLogs(q: LogQuery): Promise<LogEntry[]> {
    return readLogs(this.db.k, q);
  }

  async latestEventId(): Promise<number> {
    return latestEventId(this.db.k);
  }

  async readEvents(after: number, limit: number, jobId?: string): Promise<WharfEvent[]> {
    return readEvents(this.db.k, after, limit, jobId);
  }

  onChange(listener: (c: StoreChange) => void): () => void {
    return this.db.onChange(listener);
  }

  /** Not part of Store: how often events had to read a job's task rows (tests, diagnostics). */
  jobCacheStats(): JobCacheStats {
    return { ...this.db.jobs.stats };
  }

  /** Not part of Store: how markStarted and finishAttempt calls were joined (tests, diagnostics). */
  batchStats(): { starts: CoalescerStats; finishes: CoalescerStats } {
    return { starts: { ...this.starts.stats }, finishes: { ...this.finishes.stats } };
  }

  /** Not part of Store: how often the LISTEN connection was made again (tests, diagnostics). */
  listenerReconnects(): number {
    return this.listener.reconnects;
  }

  async ping(): Promise<void> {
    if (this.closing) throw new Error('the store is closed');
    await this.db.k.selectNoFrom((eb) => eb.lit(1).as('one')).execute();
  }

  async close(): Promise<void> {
    this.closing ??= (async () => {
      await this.listener.close();
      await this.db.k.destroy();
    })();
    return this.closing;
  }
}
