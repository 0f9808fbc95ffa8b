// The Docker Engine API over HTTP on its socket (node:http; no client library, never the CLI).
// Every path is prefixed with one pinned API version, so the answers have one known shape.
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import { EngineError, EngineUnreachableError, engineMessage, unreachableDetail } from './errors.js';
import { parseDockerHost, type DockerHost } from './host.js';

/** What dockerd 20.10 speaks; newer engines and Podman's compat socket answer it too. */
export const API_VERSION = '1.41';
const DEFAULT_TIMEOUT_MS = 60_000;
const MAX_ERROR_BODY = 64 * 1024;

export type QueryValue = string | number | boolean | undefined | Record<string, unknown> | unknown[];

export interface RequestOptions {
  /** Objects and arrays (e.g. `filters`) are sent as JSON; booleans as 1/0; undefined is left out. */
  query?: Record<string, QueryValue>;
  /**
   * A JSON value; or bytes sent as they are: a Buffer, a stream (node's, or any async iterable of
   * chunks such as tar-stream's pack). Set their content-type in `headers`, e.g. application/x-tar.
   */
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /**
   * Longest silence on the connection before giving up. For `stream()` it only runs until the
   * answer's headers arrive: a followed stream (events, logs) may stay quiet for ever.
   */
  timeoutMs?: number;
}

export interface DockerEngineOptions {
  /** DOCKER_HOST form (unix:///…, tcp://host:port); default process.env.DOCKER_HOST, then /var/run/docker.sock. */
  host?: string;
  timeoutMs?: number;
  /** API version prefix; default API_VERSION. */
  apiVersion?: string;
}

export class DockerEngine {
  readonly host: DockerHost;
  readonly apiVersion: string;
  private readonly timeoutMs: number;
  private readonly agent: http.Agent;

  constructor(opts: DockerEngineOptions = {}) {
    this.host = parseDockerHost(opts.host ?? process.env['DOCKER_HOST']);
    this.apiVersion = opts.apiVersion ?? API_VERSION;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const tls = this.host.kind === 'tcp' ? this.host.tls : undefined;
    this.agent = tls ? new https.Agent({ keepAlive: true, ca: tls.ca, cert: tls.cert, key: tls.key }) : new http.Agent({ keepAlive: true });
  }

  /** The whole answer: parsed JSON, text, or undefined when empty (204, and 304 "already so"). */
  async request<T = unknown>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const res = await this.send(method, path, opts, false);
    const body = await readAll(res);
    if (res.statusCode === 204 || res.statusCode === 304 || body.length === 0) return undefined as T;
    const text = body.toString('utf8');
    if (!(res.headers['content-type'] ?? '').includes('json')) return text as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new EngineError(res.statusCode ?? 0, `the engine answered ${method} ${path} with invalid JSON: ${text.slice(0, 200)}`, `${method} ${path}`);
    }
  }

  /** An answer whose status was a success, its body still to be read (destroy it to stop early). */
  stream(method: string, path: string, opts: RequestOptions = {}): Promise<IncomingMessage> {
    return this.send(method, path, opts, true);
  }

  /** GET /_ping: resolves when the engine answers, with the API version it speaks at most. */
  async ping(opts: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<{ apiVersion?: string }> {
    const res = await this.send('GET', '/_ping', opts, false);
    await readAll(res);
    const v = res.headers['api-version'];
    return typeof v === 'string' ? { apiVersion: v } : {};
  }

  /** Closes pooled connections; streams still open are left to their owners. */
  close(): void {
    this.agent.destroy();
  }

  private async send(method: string, path: string, opts: RequestOptions, streaming: boolean): Promise<IncomingMessage> {
    try {
      return await this.sendOnce(method, path, opts, streaming);
    } catch (e) {
      // A pooled connection the engine had closed: retry once when the request can be repeated.
      if ((e as { retryable?: boolean }).retryable) return this.sendOnce(method, path, opts, streaming);
      throw e;
    }
  }

  private sendOnce(method: string, path: string, opts: RequestOptions, streaming: boolean): Promise<IncomingMessage> {
    const url = `/v${this.apiVersion}${path}${queryString(opts.query)}`;
    const what = `${method} ${path}`;
    const bodyStream = toStream(opts.body);
    let payload: Buffer | undefined;
    const headers: Record<string, string> = { ...opts.headers };
    if (Buffer.isBuffer(opts.body) || opts.body instanceof Uint8Array) {
      payload = Buffer.from(opts.body);
      headers['content-length'] = String(payload.length);
    } else if (opts.body !== undefined && !bodyStream) {
      payload = Buffer.from(JSON.stringify(opts.body));
      headers['content-type'] ??= 'application/json';
      headers['content-length'] = String(payload.length);
    }
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
    const base = { method, path: url, headers, agent: this.agent, signal: opts.signal };
    const target = this.host.kind === 'unix' ? { socketPath: this.host.socketPath } : { hostname: this.host.hostname, port: this.host.port };
    const isHttps = this.host.kind === 'tcp' && this.host.tls !== undefined;

    return new Promise<IncomingMessage>((resolve, reject) => {
      const req = (isHttps ? https : http).request({ ...base, ...target });
      let answered = false;
      let bodyError: Error | undefined;
      req.setTimeout(timeoutMs, () => {
        req.destroy(new EngineError(0, `the Docker engine at ${this.host.url} did not answer ${what} within ${timeoutMs} ms`, what));
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (answered) return; // the response carries the failure from here on
        bodyStream?.destroy();
        // The caller's own body stream failed (a file it reads vanished): its error, not the engine's.
        if (bodyError) return reject(bodyError);
        if (err instanceof EngineError || err.name === 'AbortError') return reject(err);
        const code = err.code;
        if (code === 'ECONNRESET' && req.reusedSocket && !bodyStream) {
          return reject(Object.assign(err, { retryable: true }));
        }
        if (code && ['ENOENT', 'ECONNREFUSED', 'EACCES', 'EPERM', 'ENOTSOCK', 'EHOSTUNREACH', 'ENOTFOUND'].includes(code)) {
          return reject(new EngineUnreachableError(this.host.url, code, unreachableDetail(code, err.message, this.host.kind === 'unix')));
        }
        reject(new EngineError(0, `${what} to the Docker engine at ${this.host.url} failed: ${err.message}`, what));
      });
      req.on('response', (res) => {
        answered = true;
        const status = res.statusCode ?? 0;
        if (status >= 400) {
          bodyStream?.destroy(); // the engine will not read the rest
          readAll(res, MAX_ERROR_BODY).then(
            (b) => reject(new EngineError(status, engineMessage(b.toString('utf8'), status), what)),
            (err: Error) => reject(new EngineError(status, `HTTP ${status}; the body could not be read: ${err.message}`, what)),
          );
          return;
        }
        if (streaming) req.setTimeout(0); // the body may stay quiet for as long as it likes
        resolve(res);
      });
      if (bodyStream) {
        bodyStream.on('error', (err) => {
          bodyError = err;
          req.destroy(err);
        });
        bodyStream.pipe(req);
      } else {
        req.end(payload);
      }
    });
  }
}

function toStream(body: unknown): Readable | undefined {
  if (body instanceof Readable) return body;
  if (body !== null && typeof body === 'object' && Symbol.asyncIterator in body) {
    return Readable.from(body as AsyncIterable<Buffer>, { objectMode: false });
  }
  return undefined;
}

function queryString(query: Record<string, QueryValue> | undefined): string {
  if (!query) return '';
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined) continue;
    if (typeof v === 'boolean') q.set(k, v ? '1' : '0');
    else if (typeof v === 'object') q.set(k, JSON.stringify(v));
    else q.set(k, String(v));
  }
  const s = q.toString();
  return s === '' ? '' : `?${s}`;
}

/** The rest of a body; past `limit` bytes the remainder is dropped (error bodies only). */
export async function readAll(res: IncomingMessage, limit = Infinity): Promise<Buffer> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    if (size < limit) parts.push(chunk);
    size += chunk.length;
  }
  const all = Buffer.concat(parts);
  return all.length > limit ? all.subarray(0, limit) : all;
}
