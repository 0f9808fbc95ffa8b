// Streams the task container's output through pods/log (client-node's Log, follow + timestamps).
// A followed stream that breaks before the run has ended (an API server restart, a proxy cutting
// an idle connection) is opened again from the last line's time and the lines already given are
// dropped, so nothing is lost or doubled and a silent task is not cut off. It ends once a stream
// opened after the run ended has been read to its end: that one holds everything.
import { PassThrough, type Readable, type Writable } from 'node:stream';
import type { LogOptions } from '@kubernetes/client-node';
import type { RunLogChunk } from '../types.js';
import { apiError, type KubernetesApiError } from './api.js';
import { LogFormatError, LogLines, parseCursor } from './log-lines.js';
import { TASK_CONTAINER } from './names.js';

/** Where the run is, as the backend knows it. */
export type RunProgress = 'pending' | 'started' | 'ended' | 'gone';

/** What is used of client-node's Log: it pipes the response body into `stream`. */
export interface LogClient {
  log(namespace: string, pod: string, container: string, stream: Writable, options: LogOptions): Promise<AbortController>;
}

export interface PodLogSource {
  log: LogClient;
  namespace: string;
  pod: string;
  progress(): RunProgress;
  /** Resolves when progress() may have changed. */
  changed(): Promise<void>;
  /** Told of each open request, so closing the backend cuts it. */
  track(c: AbortController): () => void;
  closed(): boolean;
  report(message: string): void;
  /** How long to wait for a log request's answer. */
  timeoutMs: number;
}

const MAX_BACKOFF_MS = 5_000;
/** How long a cleanly ended stream waits for the run's end to be seen before it reads again. */
const STATUS_WAIT_MS = 2_000;

function isGoing(p: RunProgress): boolean {
  return p === 'pending' || p === 'started';
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}

/** One pods/log request as a readable of its body: it errors when the connection breaks. */
async function openStream(src: PodLogSource, opts: { follow: boolean; sinceTime: string | undefined }): Promise<{ body: Readable; controller: AbortController }> {
  const body = new PassThrough();
  // Log.log pipes the response into `body`; a pipe passes no error on, so listen to the source.
  body.once('pipe', (res: Readable) => {
    res.once('error', (e) => body.destroy(e));
    res.once('close', () => { if (!res.readableEnded) body.destroy(new Error('the log stream closed before its end')); });
  });
  const what = `reading the log of pod ${src.pod}`;
  let timer: NodeJS.Timeout | undefined;
  let late = false;
  const request = src.log.log(src.namespace, src.pod, TASK_CONTAINER, body, {
    follow: opts.follow,
    timestamps: true,
    ...(opts.sinceTime !== undefined ? { sinceTime: opts.sinceTime } : {}),
  });
  try {
    const controller = await Promise.race([
      request,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => { late = true; reject(apiError(Object.assign(new Error('timeout'), { name: 'TimeoutError' }), what, src.timeoutMs)); }, src.timeoutMs);
      }),
    ]);
    return { body, controller };
  } catch (e) {
    if (late) void request.then((c) => c.abort(), () => undefined); // answered after all: cut it
    body.destroy();
    throw apiError(e, what, src.timeoutMs);
  } finally {
    clearTimeout(timer);
  }
}

/** Chunks of the task container's output; with `follow`, until the run has ended and all is read. */
export async function* podLogs(src: PodLogSource, opts: { follow: boolean; after?: string | undefined }): AsyncGenerator<RunLogChunk> {
  const lines = new LogLines(opts.after === undefined ? undefined : parseCursor(opts.after));
  let backoff = 50;
  for (;;) {
    // pods/log answers 400 while the container waits to start: wait for it.
    while (opts.follow && src.progress() === 'pending' && !src.closed()) await src.changed();
    if (src.closed()) return;
    const endedBefore = !isGoing(src.progress());
    lines.restart();
    let clean = false;
    let failure: KubernetesApiError | undefined;
    try {
      const { body, controller } = await openStream(src, { follow: opts.follow, sinceTime: lines.resumeTime() });
      const untrack = src.track(controller);
      try {
        for await (const data of body as AsyncIterable<Buffer>) {
          backoff = 50;
          for (const chunk of lines.push(data)) yield chunk;
        }
        clean = true;
      } finally {
        untrack();
        controller.abort(); // a consumer that stopped early must not leave the request streaming
        body.destroy();
      }
    } catch (e) {
      if (src.closed()) return;
      if (e instanceof LogFormatError) throw e; // reading again would not change it
      failure = apiError(e, `reading the log of pod ${src.pod}`);
      if (failure.status === 404) return; // the pod is gone: its log with it
      if (failure.status === 401 || failure.status === 403) throw failure;
      // 400: the container is not running (yet, or it never started).
      if (failure.status === 400 && (endedBefore || !opts.follow)) return;
      if (!opts.follow) throw failure;
    }
    if (clean && (endedBefore || !opts.follow)) {
      yield* lines.end();
      return;
    }
    if (failure) {
      if (failure.status !== 400) src.report(`${failure.message}; reading on from the last line`);
      await Promise.race([src.changed(), sleep(backoff)]);
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      continue;
    }
    // Ended cleanly while the run was going: the container has most likely stopped, and its
    // status is on its way; read once more when it comes (or after a while, if the stream was
    // cut by something else) to be sure nothing is left.
    const until = Date.now() + STATUS_WAIT_MS;
    while (!src.closed() && Date.now() < until && isGoing(src.progress())) await Promise.race([src.changed(), sleep(until - Date.now())]);
  }
}
