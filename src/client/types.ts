// What the CLI needs from Wharf, whether it talks to a server (WHARF_URL) or works on the store
// in-process. Both implementations give the same answers and the same errors.
import type { JobState } from '../core/states.js';
import type { AuditPage, CreatedToken, CreateTokenRequest, SecretInfo, TokenInfo } from '../spec/admin-api.js';
import type { ErrorDetail, JobList, JobView, LogEntry, LogPage, WharfEvent } from '../spec/api.js';
import type { WorkerList } from '../spec/workers-api.js';

export type ApiErrorCode =
  | 'invalid' | 'unauthorized' | 'forbidden' | 'not_found' | 'conflict' | 'payload_too_large' | 'unsupported_media_type'
  | 'unavailable' | 'internal';

/** A refused request: the same code, message and details the HTTP API answers with. */
export class ApiError extends Error {
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly details: ErrorDetail[] = [],
    readonly status = statusOf(code),
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export function statusOf(code: ApiErrorCode): number {
  switch (code) {
    case 'invalid': return 400;
    case 'unauthorized': return 401;
    case 'forbidden': return 403;
    case 'not_found': return 404;
    case 'conflict': return 409;
    case 'payload_too_large': return 413;
    case 'unsupported_media_type': return 415;
    case 'unavailable': return 503;
    case 'internal': return 500;
  }
}

export interface SubmitOptions {
  /** The client's key for this submit (HTTP: the Idempotency-Key header). */
  idempotencyKey?: string;
}

/** A job file as text; `format` is guessed from the content when omitted. */
export interface JobSource {
  text: string;
  format?: 'yaml' | 'json';
}

export interface FollowOptions {
  /** Resume after this entry/event id. */
  after?: number;
  signal?: AbortSignal;
}

/** The end of a followed stream: the state the job (or task) ended in. */
export interface FollowEnd {
  state: string;
}

export interface WharfApi {
  /** With an idempotency key, a repeated submit (a retry after a lost answer) gives the same job. */
  submit(source: JobSource, opts?: SubmitOptions): Promise<JobView>;
  getJob(id: string): Promise<JobView>;
  listJobs(q: { state?: JobState; labels?: Record<string, string>; cursor?: string; limit?: number }): Promise<JobList>;
  cancel(id: string): Promise<JobView>;
  retry(id: string): Promise<JobView>;
  readLogs(jobId: string, q: { task?: string; attempt?: number; after?: number; limit?: number }): Promise<LogPage>;
  /** Live log entries of a job (or one task) until it ends and everything stored was sent. */
  followLogs(jobId: string, task: string | undefined, opts?: FollowOptions): AsyncIterable<LogEntry>;
  /** State changes (server-wide, or of one job until it ends). */
  followEvents(opts?: FollowOptions & { jobId?: string }): AsyncIterable<WharfEvent>;

  createToken(req: CreateTokenRequest): Promise<CreatedToken>;
  listTokens(): Promise<TokenInfo[]>;
  revokeToken(id: string): Promise<TokenInfo>;
  /** `value` comes from stdin or a request body, never a command line. */
  setSecret(name: string, value: string): Promise<{ name: string; created: boolean }>;
  listSecrets(): Promise<SecretInfo[]>;
  deleteSecret(name: string): Promise<void>;
  listAudit(q: { after?: number; limit?: number }): Promise<AuditPage>;
  /** Every registered worker, with whether it is live. */
  listWorkers(): Promise<WorkerList>;
  close(): Promise<void>;
}
