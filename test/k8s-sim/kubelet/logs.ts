// pods/log from a container's Docker log, the way the kubelet streams CRI logs (cri-client
// logs.go ReadLogs): stdout and stderr in the order written, `sinceTime`/`sinceSeconds` applied
// to each entry's own timestamp, the fixed-width RFC3339Nano prefix once per line when asked,
// `limitBytes` counting the prefixes and cutting mid-line, `follow` ending with the container.
import type { IncomingMessage } from 'node:http';
import { PassThrough, type Readable } from 'node:stream';
import type { DockerEngine } from '../../../src/docker/engine.js';
import { demux } from '../../../src/docker/streams.js';
import type { LogOptions } from '../types.js';

interface Entry {
  ns: bigint;
  data: Buffer;
}

const TS_RE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/;

/** Nanoseconds since the epoch of an RFC 3339 time (any fraction), or undefined. */
export function parseTimeNs(text: string): bigint | undefined {
  const m = TS_RE.exec(text);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1] ?? ''}${m[3] ?? ''}`);
  if (Number.isNaN(ms)) return undefined;
  return BigInt(ms) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}

function wholeSecond(ns: bigint | undefined): bigint | undefined {
  return ns === undefined ? undefined : (ns / 1_000_000_000n) * 1_000_000_000n;
}

/** Go's "2006-01-02T15:04:05.000000000Z07:00" in UTC: always nine fraction digits. */
export function formatTimeNs(ns: bigint): string {
  const secs = ns / 1_000_000_000n;
  const frac = String(ns % 1_000_000_000n).padStart(9, '0');
  return `${new Date(Number(secs) * 1000).toISOString().slice(0, 19)}.${frac}Z`;
}

function splitEntry(frame: Buffer): Entry | undefined {
  const sp = frame.indexOf(0x20);
  const ns = sp > 0 ? parseTimeNs(frame.subarray(0, sp).toString('latin1')) : undefined;
  return ns === undefined ? undefined : { ns, data: frame.subarray(sp + 1) };
}

/** Entries of a non-TTY container's multiplexed log, or of a TTY container's raw one (one per line). */
async function* entries(res: IncomingMessage, tty: boolean): AsyncGenerator<Entry> {
  if (!tty) {
    for await (const f of demux(res)) {
      const e = f.stream === 'stdin' ? undefined : splitEntry(f.data);
      if (e) yield e;
    }
    return;
  }
  let rest = Buffer.alloc(0);
  for await (const chunk of res as AsyncIterable<Buffer>) {
    rest = Buffer.concat([rest, chunk]);
    let nl: number;
    while ((nl = rest.indexOf(0x0a)) >= 0) {
      const e = splitEntry(rest.subarray(0, nl + 1));
      rest = rest.subarray(nl + 1);
      if (e) yield e;
    }
  }
  const last = rest.length > 0 ? splitEntry(rest) : undefined;
  if (last) yield last;
}

export interface LogStreamOptions {
  tty: boolean;
  /** Told of the open response, so that closing the kubelet can cut it; returns the untrack. */
  track: (s: Readable) => () => void;
}

/** The log as the kubelet streams it; the body ends with the log (or, following, the container). */
export async function containerLogs(engine: DockerEngine, id: string, opts: LogOptions, s: LogStreamOptions): Promise<Readable> {
  let since: bigint | undefined;
  // The API server forwards sinceTime to the kubelet as time.RFC3339: whole seconds.
  if (opts.sinceTime !== undefined) since = wholeSecond(parseTimeNs(opts.sinceTime));
  else if (opts.sinceSeconds !== undefined) since = BigInt(Date.now() - opts.sinceSeconds * 1000) * 1_000_000n;
  const res = await engine.stream('GET', `/containers/${id}/logs`, {
    query: {
      follow: opts.follow, stdout: true, stderr: true, timestamps: true,
      tail: opts.tailLines === undefined ? 'all' : Math.max(0, opts.tailLines),
      // Whole seconds for the engine; the exact cut is made per entry below.
      since: since === undefined ? undefined : String(since / 1_000_000_000n),
    },
  });
  const out = new PassThrough();
  const untrack = s.track(out);
  out.on('close', () => { res.destroy(); untrack(); });
  void pump(res, out, opts, since, s.tty);
  return out;
}

async function pump(res: IncomingMessage, out: PassThrough, opts: LogOptions, since: bigint | undefined, tty: boolean): Promise<void> {
  let remain = opts.limitBytes ?? Infinity;
  let newLine = true;
  try {
    for await (const e of entries(res, tty)) {
      const addPrefix = newLine;
      newLine = e.data[e.data.length - 1] === 0x0a;
      if (since !== undefined && e.ns < since) continue;
      let line = opts.timestamps && addPrefix ? Buffer.concat([Buffer.from(`${formatTimeNs(e.ns)} `), e.data]) : e.data;
      if (line.length > remain) line = line.subarray(0, remain);
      remain -= line.length;
      if (line.length > 0 && !(await write(out, line))) return;
      if (remain <= 0) break;
    }
    out.end();
  } catch {
    // The container went away mid-stream (deleted pod): the body just ends, as the kubelet's does.
    out.end();
  } finally {
    res.destroy();
  }
}

/** false once the reader went away. */
function write(out: PassThrough, data: Buffer): Promise<boolean> {
  if (out.destroyed) return Promise.resolve(false);
  if (out.write(data)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ok: boolean): void => { out.off('drain', onDrain); out.off('close', onClose); resolve(ok); };
    const onDrain = (): void => done(true);
    const onClose = (): void => done(false);
    out.once('drain', onDrain);
    out.once('close', onClose);
  });
}

/** The last 80 lines (at most 2048 bytes) of a container's output: FallbackToLogsOnError's message. */
export async function logTail(engine: DockerEngine, id: string, tty: boolean): Promise<string> {
  const res = await engine.stream('GET', `/containers/${id}/logs`, { query: { stdout: true, stderr: true, timestamps: true, tail: 80 } });
  const parts: Buffer[] = [];
  for await (const e of entries(res, tty)) parts.push(e.data);
  const all = Buffer.concat(parts);
  return all.subarray(Math.max(0, all.length - 2048)).toString('utf8');
}
