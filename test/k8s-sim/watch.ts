// A watch stream as handlers/watch.go + the cacher serve it: HTTP 200, chunked, one JSON event per
// line; ADDED for current objects first when resourceVersion is unset/"0"; replay from history
// otherwise, or one ERROR (410 Expired) line and EOF when the RV is too old; selector transitions
// become ADDED/DELETED; BOOKMARKs only for watchers that asked; the stream ends at timeoutSeconds.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Counts } from './counts.js';
import type { KubeVersion } from './discovery.js';
import { commonHeaders } from './http-io.js';
import type { Selector } from './selectors.js';
import { StatusError, badRequest, expired } from './status.js';
import type { Change, ResourceStore } from './store.js';
import type { Status } from './types.js';
import { wireObject, type KubeObject } from './wire.js';

export interface WatchParams {
  resourceVersion: string | undefined;
  allowBookmarks: boolean;
  timeoutSeconds: number | undefined;
  sendInitialEvents: boolean | undefined;
  matches: Selector;
}

/** One open watch stream, for the faults that act on all of them. */
export interface OpenWatch {
  /** End the stream abruptly (socket destroyed, no terminating chunk). */
  drop(): void;
  /** End the stream cleanly, as a server-side timeout does. */
  end(): void;
  /** Send ERROR 410 and end. */
  expire(): void;
  bookmark(): void;
}

export class WatchHub {
  readonly open = new Set<OpenWatch>();
  each(fn: (w: OpenWatch) => void): void { for (const w of [...this.open]) fn(w); }
}

type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

/** The zero object of the watched kind that carries a bookmark's RV (Go serialises the empty struct). */
function bookmarkObject(resource: string, kind: string, rv: number, v: KubeVersion, initialEnd: boolean): unknown {
  const metadata: Record<string, unknown> = { resourceVersion: String(rv) };
  if (v === '1.32') metadata['creationTimestamp'] = null;
  if (initialEnd) metadata['annotations'] = { 'k8s.io/initial-events-end': 'true' };
  const obj: Record<string, unknown> = { kind, apiVersion: 'v1', metadata };
  if (resource === 'pods') Object.assign(obj, { spec: { containers: null }, status: {} });
  if (resource === 'namespaces') Object.assign(obj, { spec: {}, status: {} });
  return obj;
}

function transform<T extends KubeObject>(c: Change<T>, matches: Selector): { type: WatchEventType; object: T } | undefined {
  const now = matches(c.object);
  if (c.type === 'ADDED') return now ? { type: 'ADDED', object: c.object } : undefined;
  if (c.type === 'DELETED') return c.prev && matches(c.prev) ? { type: 'DELETED', object: c.object } : undefined;
  const before = c.prev ? matches(c.prev) : false;
  if (now && before) return { type: 'MODIFIED', object: c.object };
  if (now) return { type: 'ADDED', object: c.object };
  if (before && c.prev) {
    // leaving the selection: the previous content, with the event's RV (cacher.go)
    const gone = { ...c.prev, metadata: { ...c.prev.metadata, resourceVersion: String(c.rv) } };
    return { type: 'DELETED', object: gone };
  }
  return undefined;
}

export interface WatchContext<T extends KubeObject> {
  req: IncomingMessage;
  res: ServerResponse;
  store: ResourceStore<T>;
  namespace: string | undefined;
  params: WatchParams;
  hub: WatchHub;
  counts: Counts;
  version: KubeVersion;
  bookmarkIntervalMs: number;
}

export function serveWatch<T extends KubeObject>(ctx: WatchContext<T>): void {
  const { res, store, params } = ctx;
  const rvText = params.resourceVersion;
  const fromNow = rvText === undefined || rvText === '' || rvText === '0';
  const rv = fromNow ? store.currentRv : Number(rvText);
  if (!fromNow && !/^\d+$/.test(rvText)) throw new StatusError(badRequest(`invalid resource version: strconv.ParseUint: parsing ${JSON.stringify(rvText)}: invalid syntax`));

  res.writeHead(200, { ...commonHeaders(), 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
  res.flushHeaders();
  let closed = false;
  let lastRv = rv;
  const send = (type: WatchEventType, object: unknown): void => {
    if (closed) return;
    ctx.counts.watchEvent(type);
    res.write(`${JSON.stringify({ type, object })}\n`);
  };
  const sendError = (status: Status): void => {
    send('ERROR', status);
    finish(false);
  };
  const sendChange = (c: Change<T>): void => {
    const ev = transform(c, params.matches);
    lastRv = c.rv;
    if (ev && (ctx.namespace === undefined || ev.object.metadata?.namespace === ctx.namespace)) send(ev.type, wireObject(ev.object, true));
  };
  const bookmark = (initialEnd = false): void => {
    if (params.allowBookmarks) send('BOOKMARK', bookmarkObject(store.resource, store.kind, store.currentRv, ctx.version, initialEnd));
  };

  const timers: NodeJS.Timeout[] = [];
  let unsubscribe = (): void => {};
  const handle: OpenWatch = {
    drop: () => { finish(true); },
    end: () => { finish(false); },
    expire: () => { sendError(expired(`too old resource version: ${lastRv} (${store.currentRv})`)); },
    bookmark: () => { bookmark(); },
  };
  function finish(abrupt: boolean): void {
    if (closed) return;
    closed = true;
    unsubscribe();
    for (const t of timers) clearTimeout(t);
    ctx.hub.open.delete(handle);
    if (abrupt) res.socket?.destroy();
    else res.end();
  }
  res.on('close', () => finish(true));

  const initial = params.sendInitialEvents ?? fromNow;
  if (!fromNow) {
    const past = store.since(rv);
    if ('tooOld' in past) {
      sendError(expired(`too old resource version: ${rv} (${past.tooOld})`));
      return;
    }
    if (!initial) for (const c of past.changes) sendChange(c);
  }
  if (initial) {
    for (const o of store.list(ctx.namespace)) if (params.matches(o)) send('ADDED', wireObject(o, true));
    lastRv = store.currentRv;
    if (params.sendInitialEvents) bookmark(true);
  }
  unsubscribe = store.subscribe(sendChange);
  ctx.hub.open.add(handle);
  if (params.allowBookmarks) {
    const tick = (): void => {
      bookmark();
      timers[0] = setTimeout(tick, ctx.bookmarkIntervalMs).unref();
    };
    timers[0] = setTimeout(tick, ctx.bookmarkIntervalMs).unref();
  }
  // without timeoutSeconds: min-request-timeout (1800 s) × rand[1,2), as the real server does
  const timeoutMs = params.timeoutSeconds !== undefined ? params.timeoutSeconds * 1000 : 1800_000 * (1 + Math.random());
  timers[1] = setTimeout(() => finish(false), timeoutMs).unref();
}
