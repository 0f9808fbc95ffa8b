// WharfService: the API's operations over a Store. The HTTP routes call it, and the CLI uses it
// directly when it works in-process, so both give the same answers and the same errors.
import { ApiError, type FollowEnd, type FollowOptions, type JobSource, type SubmitOptions, type WharfApi } from '../client/types.js';
import type { JobState } from '../core/states.js';
import type { JobList, JobView, LogEntry, LogPage, WharfEvent } from '../spec/api.js';
import { policyErrors } from '../core/policy.js';
import { parseJob } from '../spec/parse.js';
import { place } from '../spec/placement.js';
import { DEFAULT_POLICY, type Policy } from '../spec/policy.js';
import { BACKENDS, type BackendName, type JobSpec } from '../spec/schema.js';
import type { JobQuery, Store, StoreResult } from '../store/types.js';
import type { AuditAction, AuditPage, CreatedToken, CreateTokenRequest, SecretInfo, TokenInfo } from '../spec/admin-api.js';
import { secretRef } from '../spec/placement.js';
import { AdminService, type AdminDeps } from './admin.js';
import { invalidJob, invalidRequest, noJob, noTask } from './errors.js';
import { followEvents, followLogs, type FollowDeps } from './follow.js';
import { WORKER_HEARTBEAT_MS, type WorkerRegistry } from '../store/workers.js';
import type { WorkerList } from '../spec/workers-api.js';
import { withWaiting, workerViews } from './workers.js';

export interface WharfServiceOptions {
  store: Store;
  /** Backend of tasks that name none and have no image (those go to a container backend). */
  defaultBackend?: BackendName;
  /** What tasks may ask for; default: non-privileged only. */
  policy?: Policy;
  /** Backends this installation runs; a task asking for another is refused at submit. Default: all. */
  backends?: readonly BackendName[];
  /** Safety re-read interval of followers, for writers in other processes (default 1000 ms). */
  pollMs?: number;
  /** Close the store in close() (the CLI's in-process mode owns its store). */
  closeStore?: boolean;
  /** Tokens, secrets and the audit log; without them those operations answer 503. */
  admin?: AdminDeps;
  /** The worker registry: GET /workers, and why queued tasks wait. Without it, no workers are listed and no reason is given. */
  workers?: WorkerRegistry;
  /** The workers' heartbeat interval, which liveness is judged by (default WORKER_HEARTBEAT_MS). */
  heartbeatMs?: number;
}

export const LIST_LIMIT = { default: 50, max: 500 } as const;
export const LOG_LIMIT = { default: 1000, max: 10_000 } as const;

export const CANCEL_REASON = 'canceled by request';

export class WharfService implements WharfApi {
  readonly store: Store;
  readonly defaultBackend: BackendName;
  readonly backends: readonly BackendName[];
  readonly policy: Policy;
  private readonly deps: FollowDeps;
  private readonly closeStore: boolean;
  private readonly adminDeps: AdminDeps | undefined;
  private readonly workers: WorkerRegistry | undefined;
  private readonly heartbeatMs: number;
  /** Who is asking (audit log); see as(). */
  private actor = 'local';

  constructor(opts: WharfServiceOptions) {
    this.adminDeps = opts.admin;
    this.workers = opts.workers;
    this.heartbeatMs = opts.heartbeatMs ?? WORKER_HEARTBEAT_MS;
    this.store = opts.store;
    this.defaultBackend = opts.defaultBackend ?? 'local';
    this.backends = opts.backends ?? BACKENDS;
    this.policy = opts.policy ?? DEFAULT_POLICY;
    this.deps = { store: opts.store, pollMs: opts.pollMs ?? 1000 };
    this.closeStore = opts.closeStore ?? false;
  }

  /** This service acting for `actor` (audit log): "token:<id> (<name>)", "oidc:<subject>", "local:<user>". */
  as(actor: string): WharfService {
    const view = Object.create(this) as WharfService;
    view.actor = actor;
    return view;
  }

  private get admin(): AdminService {
    if (!this.adminDeps) throw new ApiError('unavailable', 'this server keeps no tokens, secrets or audit log');
    return new AdminService(this.adminDeps, this.actor);
  }

  private async audited<T extends { id: string }>(action: AuditAction, p: Promise<T>): Promise<T> {
    const v = await p;
    if (this.adminDeps) await this.admin.audit(action, v.id);
    return v;
  }

  createToken(req: CreateTokenRequest): Promise<CreatedToken> { return this.admin.createToken(req); }
  listTokens(): Promise<TokenInfo[]> { return this.admin.listTokens(); }
  revokeToken(id: string): Promise<TokenInfo> { return this.admin.revokeToken(id); }
  setSecret(name: string, value: string): Promise<{ name: string; created: boolean }> { return this.admin.setSecret(name, value); }
  listSecrets(): Promise<SecretInfo[]> { return this.admin.listSecrets(); }
  deleteSecret(name: string): Promise<void> { return this.admin.deleteSecret(name); }
  listAudit(q: { after?: number; limit?: number }): Promise<AuditPage> { return this.admin.listAudit(q); }

  /**
   * Validates and stores a job. `source` is a job file as text ({text, format?}) or an already
   * parsed document (a JSON request body); every validation error is reported at once.
   */
  async submit(source: JobSource | Record<string, unknown>, opts: SubmitOptions = {}): Promise<JobView> {
    return (await this.submitJob(source, opts)).job;
  }

  /** submit, saying whether the job was made now or, for a key seen before, earlier. */
  async submitJob(source: JobSource | Record<string, unknown>, opts: SubmitOptions = {}): Promise<{ job: JobView; created: boolean }> {
    return this.submitDocument(isJobSource(source) ? source : undefined, source, opts.idempotencyKey);
  }

  /** Like submit, for a parsed document whatever its shape (it is never taken for a JobSource). */
  async submitValue(doc: unknown): Promise<JobView> {
    return (await this.submitDocument(undefined, doc)).job;
  }

  private async submitDocument(text: JobSource | undefined, doc: unknown, key?: string): Promise<{ job: JobView; created: boolean }> {
    if (key !== undefined) checkIdempotencyKey(key);
    const r = text
      ? parseJob(text.text, text.format ? { format: text.format } : undefined)
      : parseJob(doc);
    if (!r.ok) throw invalidJob(r.errors);
    const placed = place(r.spec, { defaultBackend: this.defaultBackend, available: this.backends });
    if (placed.errors.length > 0) throw invalidJob(placed.errors);
    const refused = policyErrors(placed.spec, this.policy);
    if (refused.length > 0) throw invalidJob(refused);
    await this.checkSecrets(placed.spec);
    if (key === undefined) return { job: await this.audited('job.submit', this.store.createJob(placed.spec, { defaultBackend: this.defaultBackend })), created: true };
    const once = await this.store.createJobOnce(placed.spec, { defaultBackend: this.defaultBackend, key });
    if (!once.ok) throw new ApiError('conflict', once.error.message);
    if (once.value.created && this.adminDeps) await this.admin.audit('job.submit', once.value.job.id);
    return once.value;
  }

  /** Every secret a task names exists now (it is read again when the task starts). */
  private async checkSecrets(spec: JobSpec): Promise<void> {
    const wanted = Object.entries(spec.tasks).flatMap(([task, t]) => (t.secrets ?? []).map((ref, i) => ({ path: `tasks.${task}.secrets[${i}]`, name: secretRef(ref).name })));
    if (wanted.length === 0) return;
    if (!this.adminDeps) throw invalidJob(wanted.map((w) => ({ path: w.path, message: 'this server keeps no secrets' })));
    const have = new Set((await this.adminDeps.admin.getSecrets([...new Set(wanted.map((w) => w.name))])).map((s) => s.name));
    const missing = wanted.filter((w) => !have.has(w.name));
    if (missing.length) throw invalidJob(missing.map((w) => ({ path: w.path, message: `no secret ${JSON.stringify(w.name)}: create it with \`wharf secret set ${w.name}\`` })));
  }

  async getJob(id: string): Promise<JobView> {
    const job = await this.store.getJob(id);
    if (!job) throw noJob(id);
    return this.workers ? withWaiting(job, this.workers, this.heartbeatMs) : job;
  }

  /** Every registered worker, with whether it is live. */
  async listWorkers(): Promise<WorkerList> {
    // A service without a registry (tests, embedded uses) knows of no workers.
    if (!this.workers) return { workers: [] };
    return { workers: workerViews(await this.workers.list(), this.workers.now(), this.heartbeatMs) };
  }

  async listJobs(q: { state?: JobState; labels?: Record<string, string>; cursor?: string; limit?: number }): Promise<JobList> {
    const limit = checkLimit(q.limit, LIST_LIMIT);
    const query: JobQuery = { limit };
    if (q.state !== undefined) query.state = q.state;
    if (q.labels !== undefined && Object.keys(q.labels).length > 0) query.labels = q.labels;
    if (q.cursor !== undefined && q.cursor !== '') query.cursor = q.cursor;
    try {
      return await this.store.listJobs(query);
    } catch (e) {
      // A cursor the store cannot read is the caller's mistake, not ours.
      if (query.cursor !== undefined && e instanceof RangeError) {
        throw invalidRequest([{ path: 'cursor', message: 'expected the nextCursor of a previous page' }]);
      }
      throw e;
    }
  }

  async cancel(id: string): Promise<JobView> {
    return this.audited('job.cancel', this.store.cancelJob(id, CANCEL_REASON).then((r) => unwrap(id, r)));
  }

  async retry(id: string): Promise<JobView> {
    return this.audited('job.retry', this.store.retryJob(id).then((r) => unwrap(id, r)));
  }

  async readLogs(jobId: string, q: { task?: string; attempt?: number; after?: number; limit?: number }): Promise<LogPage> {
    const limit = checkLimit(q.limit, LOG_LIMIT);
    await this.checkTask(jobId, q.task);
    // One entry more than asked tells whether the page ended at the newest entry.
    const entries = await this.store.readLogs({ ...q, jobId, limit: limit + 1 });
    const more = entries.length > limit;
    const page = more ? entries.slice(0, limit) : entries;
    return { entries: page, nextAfter: more ? (page.at(-1)?.id ?? null) : null };
  }

  /** Live entries until the job (or task) ended; the generator returns the end state (undefined if aborted). */
  async *followLogs(jobId: string, task: string | undefined, opts: FollowOptions = {}): AsyncGenerator<LogEntry, FollowEnd | undefined> {
    await this.checkTask(jobId, task);
    return yield* followLogs(this.deps, jobId, task, opts);
  }

  /**
   * State changes: server-wide from now on (never ends), or one job's from its first (returns its
   * end state once it ended); `after` resumes either from an event id.
   */
  async *followEvents(opts: FollowOptions & { jobId?: string } = {}): AsyncGenerator<WharfEvent, FollowEnd | undefined> {
    if (opts.jobId !== undefined && !(await this.store.getStates(opts.jobId))) throw noJob(opts.jobId);
    const after = opts.after ?? (opts.jobId === undefined ? await this.store.latestEventId() : 0);
    return yield* followEvents(this.deps, { ...opts, after });
  }

  async close(): Promise<void> {
    if (this.closeStore) await this.store.close();
  }

  /** 404 unless the job (and, if named, its task) exists. */
  async checkTask(jobId: string, task: string | undefined): Promise<JobView> {
    const job = await this.store.getJob(jobId); // no queued reasons needed here
    if (!job) throw noJob(jobId);
    if (task !== undefined && !job.tasks.some((t) => t.name === task)) {
      throw noTask(jobId, task);
    }
    return job;
  }
}

const KEY_RE = /^[\x21-\x7e]{1,255}$/;

function checkIdempotencyKey(key: string): void {
  if (!KEY_RE.test(key)) {
    throw invalidRequest([{ path: 'Idempotency-Key', message: 'expected 1 to 255 visible ASCII characters (e.g. a UUID)' }]);
  }
}

function isJobSource(x: JobSource | Record<string, unknown>): x is JobSource {
  return typeof x.text === 'string' && Object.keys(x).every((k) => k === 'text' || k === 'format');
}

function unwrap<T>(id: string, r: StoreResult<T>): T {
  if (r.ok) return r.value;
  if (r.error.code === 'not_found') throw noJob(id);
  throw new ApiError('conflict', r.error.message);
}

function checkLimit(limit: number | undefined, bounds: { default: number; max: number }): number {
  if (limit === undefined) return bounds.default;
  if (!Number.isInteger(limit) || limit < 1 || limit > bounds.max) {
    throw invalidRequest([{ path: 'limit', message: `expected a whole number from 1 to ${bounds.max}` }]);
  }
  return limit;
}
