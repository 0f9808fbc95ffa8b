// One HTTP exchange with a registry or its token service: a per-request timeout joined with the
// caller's signal, and network failures turned into RegistryErrors that name the peer.
import { RegistryError } from './errors.js';

export interface Target {
  registry: string;
  repository: string;
}

export interface SendOptions {
  timeoutMs: number;
  signal?: AbortSignal | undefined;
}

/** Whom we talk to, for messages: an origin and path, never a query (it may carry an account). */
export function describeUrl(url: string): string {
  const u = new URL(url);
  return `${u.origin}${u.pathname}`;
}

export async function send(url: string, init: RequestInit, opts: SendOptions, target: Target): Promise<Response> {
  opts.signal?.throwIfAborted();
  const timeout = AbortSignal.timeout(opts.timeoutMs);
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
  try {
    return await fetch(url, { ...init, signal, redirect: 'follow' });
  } catch (e) {
    throw failure(e, url, opts, timeout, target);
  }
}

/** The body as text, at most `limit` bytes (error bodies and manifests are small). */
export async function readText(res: Response, url: string, opts: SendOptions, target: Target, limit = 4 << 20): Promise<string> {
  const buf = await readBytes(res, url, opts, target, limit);
  return buf.toString('utf8');
}

export async function readBytes(res: Response, url: string, opts: SendOptions, target: Target, limit = 4 << 20): Promise<Buffer> {
  if (!res.body) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of res.body) {
      size += chunk.byteLength;
      if (size > limit) {
        await res.body.cancel().catch(() => undefined);
        throw new RegistryError({ ...target, kind: 'protocol', summary: `${describeUrl(url)} answered with more than ${limit} bytes` });
      }
      chunks.push(Buffer.from(chunk));
    }
  } catch (e) {
    if (e instanceof RegistryError) throw e;
    throw failure(e, url, opts, undefined, target);
  }
  return Buffer.concat(chunks);
}

/** Frees the connection of a response whose body we do not need. */
export async function discard(res: Response): Promise<void> {
  await res.body?.cancel().catch(() => undefined);
}

function failure(e: unknown, url: string, opts: SendOptions, timeout: AbortSignal | undefined, target: Target): unknown {
  if (opts.signal?.aborted) return opts.signal.reason;
  const peer = describeUrl(url);
  if (timeout?.aborted || (e instanceof Error && e.name === 'TimeoutError')) {
    return new RegistryError({ ...target, kind: 'unreachable', summary: `${peer} did not answer within ${opts.timeoutMs} ms`, cause: e });
  }
  const cause = e instanceof Error ? (e.cause as { code?: unknown } | undefined) : undefined;
  const code = typeof cause?.code === 'string' ? ` (${cause.code})` : '';
  return new RegistryError({ ...target, kind: 'unreachable', summary: `cannot reach ${peer}${code}`, cause: e });
}
