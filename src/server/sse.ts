// Server-Sent Events over the raw response: `id`, `event`, `data` per item, a `: ping` comment
// while idle, `event: end` with the end state, and the stream stops when the client leaves.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ServerResponse } from 'node:http';
import { invalidRequest } from '../api/errors.js';
import { ApiError, type FollowEnd } from '../client/types.js';
import { errorBody } from './errors.js';

export const STREAMED = Symbol('streamed');

export interface SseSource<T> {
  gen: AsyncGenerator<T, FollowEnd | undefined>;
  id(item: T): number;
  event(item: T): string;
  /** Items to leave out (they still move the generator on). */
  keep?(item: T): boolean;
}

export interface SseOptions {
  pingMs: number;
  /** Open streams, aborted when the server closes. */
  live: Set<AbortController>;
}

/** Whether the client asked for an event stream. */
export function wantsSse(req: FastifyRequest): boolean {
  const accept = req.headers.accept;
  return typeof accept === 'string' && accept.includes('text/event-stream');
}

/** The resume point a reconnecting client sends, if any. */
export function lastEventId(req: FastifyRequest): number | undefined {
  const h = req.headers['last-event-id'];
  if (h === undefined || h === '') return undefined;
  const n = Number(h);
  if (typeof h !== 'string' || !Number.isSafeInteger(n) || n < 0) {
    throw invalidRequest([{ path: 'Last-Event-ID', message: 'expected an event id (a whole number)' }]);
  }
  return n;
}

/** Streams what `open` yields until it ends, fails or the client disconnects. */
export async function sendSse<T>(
  req: FastifyRequest, reply: FastifyReply, opts: SseOptions, open: (signal: AbortSignal) => SseSource<T>,
): Promise<typeof STREAMED> {
  const ac = new AbortController();
  opts.live.add(ac);
  reply.hijack();
  const res = reply.raw;
  res.on('close', () => ac.abort());
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    // Keeps reverse proxies from buffering the stream.
    'x-accel-buffering': 'no',
  });
  // A first write sends the headers now, so the client sees the stream open before any event.
  res.write('retry: 1000\n\n');
  const ping = setInterval(() => {
    if (!res.writableEnded) res.write(': ping\n\n');
  }, opts.pingMs);
  const src = open(ac.signal);
  try {
    for (;;) {
      const r = await src.gen.next();
      if (r.done) {
        if (r.value) await write(res, `event: end\ndata: ${JSON.stringify(r.value)}\n\n`);
        break;
      }
      if (src.keep && !src.keep(r.value)) continue;
      await write(res, `id: ${src.id(r.value)}\nevent: ${src.event(r.value)}\ndata: ${JSON.stringify(r.value)}\n\n`);
    }
  } catch (e) {
    if (!ac.signal.aborted && !res.destroyed && !res.writableEnded) {
      const api = e instanceof ApiError ? e : new ApiError('internal', 'internal error');
      if (!(e instanceof ApiError)) req.log.error({ err: e }, 'event stream failed');
      res.write(`event: error\ndata: ${JSON.stringify(errorBody(api))}\n\n`);
    }
  } finally {
    clearInterval(ping);
    opts.live.delete(ac);
    ac.abort();
    await src.gen.return(undefined).catch(() => undefined);
    res.end();
  }
  return STREAMED;
}

/** Writes with backpressure; gives up once the client is gone. */
function write(res: ServerResponse, chunk: string): Promise<void> {
  if (res.destroyed || res.writableEnded) return Promise.reject(new Error('client gone'));
  if (res.write(chunk)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', gone);
      resolve();
    };
    const gone = (): void => {
      res.off('drain', done);
      res.off('close', gone);
      reject(new Error('client gone'));
    };
    res.on('drain', done);
    res.on('close', gone);
  });
}
