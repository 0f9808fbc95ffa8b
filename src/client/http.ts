// WharfApi over HTTP (WHARF_URL): the same answers and ApiErrors as the in-process service.
// Event streams reconnect after a dropped connection with Last-Event-ID, so nothing is lost or
// repeated, and stop at `event: end`.
import { z } from 'zod';
import { invalidJob } from '../api/errors.js';
import type { JobState } from '../core/states.js';
import { parseJob } from '../spec/parse.js';
import {
  errorBodySchema, eventSchema, jobListSchema, jobViewSchema, logEntrySchema, logPageSchema,
  type JobList, type JobView, type LogEntry, type LogPage, type WharfEvent,
} from '../spec/api.js';
import {
  auditPageSchema, createdTokenSchema, secretListSchema, setSecretAnswerSchema, tokenInfoSchema, tokenListSchema,
  type AuditPage, type CreatedToken, type CreateTokenRequest, type SecretInfo, type TokenInfo,
} from '../spec/admin-api.js';
import { workerListSchema, type WorkerList } from '../spec/workers-api.js';
import { ApiError, statusOf, type ApiErrorCode, type FollowEnd, type FollowOptions, type JobSource, type SubmitOptions, type WharfApi } from './types.js';

export interface HttpClientOptions {
  /** Wait before reconnecting a dropped event stream (the server's `retry:` overrides it). */
  reconnectDelayMs?: number;
  /** Failed reconnects in a row before a follow gives up. */
  maxReconnects?: number;
  /** Sent as `Authorization: Bearer …` (an API token or an OIDC JWT). */
  token?: string;
}

const API = '/api/v1';
const endSchema = z.object({ state: z.string() });
const CODES: readonly ApiErrorCode[] = ['invalid', 'unauthorized', 'forbidden', 'not_found', 'conflict', 'payload_too_large', 'unsupported_media_type', 'unavailable', 'internal'];

type Query = Record<string, string | number | readonly string[] | undefined>;

export class HttpClient implements WharfApi {
  readonly url: string;
  private readonly reconnectDelayMs: number;
  private readonly maxReconnects: number;
  private readonly streams = new Set<AbortController>();
  private readonly auth: Record<string, string>;

  constructor(url: string, opts: HttpClientOptions = {}) {
    this.url = url.replace(/\/+$/, '');
    this.auth = opts.token ? { authorization: `Bearer ${opts.token}` } : {};
    this.reconnectDelayMs = opts.reconnectDelayMs ?? 1000;
    this.maxReconnects = opts.maxReconnects ?? 10;
  }

  /**
   * Reads the file here with the same parser the service uses (so a guessed format and every
   * error come out exactly as in-process) and sends the job as JSON; the server checks it again.
   */
  async submit(source: JobSource, opts: SubmitOptions = {}): Promise<JobView> {
    const r = parseJob(source.text, source.format ? { format: source.format } : {});
    if (!r.ok) throw invalidJob(r.errors);
    return this.call('POST', `${API}/jobs`, jobViewSchema, { body: JSON.stringify(r.spec), contentType: 'application/json' },
      opts.idempotencyKey === undefined ? {} : { 'idempotency-key': opts.idempotencyKey });
  }

  getJob(id: string): Promise<JobView> {
    return this.call('GET', `${API}/jobs/${enc(id)}`, jobViewSchema);
  }

  listJobs(q: { state?: JobState; labels?: Record<string, string>; cursor?: string; limit?: number }): Promise<JobList> {
    const label = Object.entries(q.labels ?? {}).map(([k, v]) => `${k}=${v}`);
    return this.call('GET', `${API}/jobs${qs({ state: q.state, label, cursor: q.cursor, limit: q.limit })}`, jobListSchema);
  }

  cancel(id: string): Promise<JobView> {
    return this.call('POST', `${API}/jobs/${enc(id)}/cancel`, jobViewSchema);
  }

  retry(id: string): Promise<JobView> {
    return this.call('POST', `${API}/jobs/${enc(id)}/retry`, jobViewSchema);
  }

  readLogs(jobId: string, q: { task?: string; attempt?: number; after?: number; limit?: number }): Promise<LogPage> {
    return this.call('GET', `${API}/jobs/${enc(jobId)}/logs${qs(q)}`, logPageSchema);
  }

  /** Live entries; the generator returns the end state (undefined when aborted). */
  followLogs(jobId: string, task: string | undefined, opts: FollowOptions = {}): AsyncGenerator<LogEntry, FollowEnd | undefined> {
    const path = task === undefined ? `${API}/jobs/${enc(jobId)}/logs` : `${API}/jobs/${enc(jobId)}/tasks/${enc(task)}/logs`;
    return this.stream(`${path}?follow=true`, logEntrySchema, opts);
  }

  followEvents(opts: FollowOptions & { jobId?: string } = {}): AsyncGenerator<WharfEvent, FollowEnd | undefined> {
    return this.stream(`${API}/events${qs({ job: opts.jobId })}`, eventSchema, opts);
  }

  createToken(req: CreateTokenRequest): Promise<CreatedToken> {
    return this.call('POST', `${API}/tokens`, createdTokenSchema, jsonBody(req));
  }

  async listTokens(): Promise<TokenInfo[]> {
    return (await this.call('GET', `${API}/tokens`, tokenListSchema)).tokens;
  }

  revokeToken(id: string): Promise<TokenInfo> {
    return this.call('POST', `${API}/tokens/${enc(id)}/revoke`, tokenInfoSchema);
  }

  setSecret(name: string, value: string): Promise<{ name: string; created: boolean }> {
    return this.call('PUT', `${API}/secrets/${enc(name)}`, setSecretAnswerSchema, jsonBody({ value }));
  }

  async listSecrets(): Promise<SecretInfo[]> {
    return (await this.call('GET', `${API}/secrets`, secretListSchema)).secrets;
  }

  async deleteSecret(name: string): Promise<void> {
    await this.call('DELETE', `${API}/secrets/${enc(name)}`, z.undefined());
  }

  listAudit(q: { after?: number; limit?: number }): Promise<AuditPage> {
    return this.call('GET', `${API}/audit${qs(q)}`, auditPageSchema);
  }

  listWorkers(): Promise<WorkerList> {
    return this.call('GET', `${API}/workers`, workerListSchema);
  }

  async close(): Promise<void> {
    for (const ac of this.streams) ac.abort();
  }

  private async call<T>(
    method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, schema: z.ZodType<T>, body?: { body: string; contentType: string },
    headers: Record<string, string> = {},
  ): Promise<T> {
    const init: RequestInit = { method, headers: { accept: 'application/json', ...headers } };
    if (body) init.headers = { accept: 'application/json', 'content-type': body.contentType, ...headers };
    if (body) init.body = body.body;
    const res = await this.fetch(path, init);
    const text = await res.text();
    if (!res.ok) throw errorFrom(res.status, text);
    return answer(schema, res.status === 204 ? undefined : parseJson(text));
  }

  private async fetch(path: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(this.url + path, { ...init, headers: { ...(init.headers as Record<string, string> | undefined), ...this.auth } });
    } catch (e) {
      if (init.signal?.aborted) throw e;
      const cause = e instanceof Error && e.cause instanceof Error ? e.cause : e;
      const why = cause instanceof Error ? cause.message : String(cause);
      throw new ApiError('unavailable', `cannot reach Wharf at ${this.url}: ${why}`);
    }
  }

  private async *stream<T>(path: string, schema: z.ZodType<T>, opts: FollowOptions): AsyncGenerator<T, FollowEnd | undefined> {
    const ac = new AbortController();
    const stop = (): void => ac.abort();
    opts.signal?.addEventListener('abort', stop);
    if (opts.signal?.aborted) ac.abort();
    this.streams.add(ac);
    let last = opts.after;
    let delay = this.reconnectDelayMs;
    let failures = 0;
    let connected = false;
    try {
      for (;;) {
        let res: Response | undefined;
        try {
          const headers: Record<string, string> = { accept: 'text/event-stream' };
          if (last !== undefined) headers['last-event-id'] = String(last);
          res = await this.fetch(path, { headers, signal: ac.signal });
        } catch (e) {
          if (ac.signal.aborted) return undefined;
          // The first connection must work; later ones may wait for a restarting server.
          if (!connected || !(e instanceof ApiError && e.code === 'unavailable')) throw e;
        }
        if (res && !res.ok) throw errorFrom(res.status, await res.text());
        if (res?.body) {
          connected = true;
          failures = 0;
          try {
            for await (const m of readSse(res.body)) {
              if (m.retry !== undefined) delay = m.retry;
              if (m.data === undefined) continue;
              if (m.event === 'end') return answer(endSchema, parseJson(m.data));
              if (m.event === 'error') throw errorFrom(undefined, m.data);
              const item = answer(schema, parseJson(m.data));
              if (m.id !== undefined) last = Number(m.id);
              yield item;
            }
          } catch (e) {
            if (ac.signal.aborted) return undefined;
            if (e instanceof ApiError) throw e;
            // Anything else is the connection dropping: reconnect below.
          }
        }
        if (++failures > this.maxReconnects) throw new ApiError('unavailable', `lost the event stream from ${this.url}`);
        await sleep(delay, ac.signal);
        if (ac.signal.aborted) return undefined;
      }
    } finally {
      opts.signal?.removeEventListener('abort', stop);
      this.streams.delete(ac);
      ac.abort();
    }
  }
}

interface SseMessage {
  id?: string;
  event: string;
  data?: string;
  retry?: number;
}

/** The messages of an event stream (the WHATWG format; comments such as `: ping` are skipped). */
export async function* readSse(body: AsyncIterable<Uint8Array>): AsyncGenerator<SseMessage> {
  const decoder = new TextDecoder();
  let buf = '';
  let msg: SseMessage = { event: 'message' };
  for await (const chunk of body) {
    buf += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).replace(/\r$/, '');
      buf = buf.slice(nl + 1);
      if (line === '') {
        if (msg.data !== undefined || msg.retry !== undefined) yield msg;
        msg = { event: 'message' };
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'data') msg.data = msg.data === undefined ? value : `${msg.data}\n${value}`;
      else if (field === 'event') msg.event = value;
      else if (field === 'id') msg.id = value;
      else if (field === 'retry' && /^\d+$/.test(value)) msg.retry = Number(value);
    }
  }
}

/** The ApiError an error answer stands for: the server's own code, message and details. */
function jsonBody(v: unknown): { body: string; contentType: string } {
  return { body: JSON.stringify(v), contentType: 'application/json' };
}

function errorFrom(status: number | undefined, text: string): ApiError {
  const body = errorBodySchema.safeParse(safeJson(text));
  if (body.success) {
    const { code, message, details } = body.data.error;
    const known = CODES.find((c) => c === code) ?? codeOf(status ?? 500);
    return new ApiError(known, message, details, status ?? statusOf(known));
  }
  return new ApiError(codeOf(status ?? 500), `Wharf answered HTTP ${status ?? '?'}`, [], status);
}

function codeOf(status: number): ApiErrorCode {
  switch (status) {
    case 401: return 'unauthorized';
    case 403: return 'forbidden';
    case 404: return 'not_found';
    case 409: return 'conflict';
    case 413: return 'payload_too_large';
    case 415: return 'unsupported_media_type';
    case 503: return 'unavailable';
    default: return status >= 400 && status < 500 ? 'invalid' : 'internal';
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function parseJson(text: string): unknown {
  const v = safeJson(text);
  if (v === undefined) throw new ApiError('internal', 'unexpected answer from Wharf: not JSON');
  return v;
}

function answer<T>(schema: z.ZodType<T>, v: unknown): T {
  const r = schema.safeParse(v);
  if (r.success) return r.data;
  const first = r.error.issues[0];
  throw new ApiError('internal', `unexpected answer from Wharf: ${first ? `${first.path.join('.')}: ${first.message}` : 'invalid'}`);
}

function enc(s: string): string {
  return encodeURIComponent(s);
}

function qs(q: Query): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined) continue;
    if (typeof v === 'object') for (const x of v) p.append(k, x);
    else p.append(k, String(v));
  }
  const s = p.toString();
  return s ? `?${s}` : '';
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });
}
