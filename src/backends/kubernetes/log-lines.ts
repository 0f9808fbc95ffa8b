// pods/log?timestamps=true output turned into chunks with resumable cursors. Each line comes as
// "<RFC 3339 nano timestamp> <bytes>\n"; the timestamp becomes the chunk's time. stdout and
// stderr arrive merged (the API gives no way to tell them apart), so every chunk is `stdout`.
// Pure (no I/O), so every edge is unit-tested.
//
// Resuming. The API resumes by time only (`sinceTime`, whole seconds; the kubelet sends every
// line stamped at or after it, in the order of its log file), and the timestamps in that file
// are not monotonic: the runtime stamps stdout and stderr separately, so a stderr line can follow
// a stdout line stamped a little later (seen here: 25 µs). Dropping lines "at or before the last
// one's time" would lose such a line, so a cursor is a position instead:
//   "<S>#<k>": S a whole second, k the number of lines of the stream from S already given out.
// S trails the newest line by one to two seconds, so a line stamped up to a second earlier than
// one already given is still in the stream from S; a stream opened from S skips its first k lines
// and gives the rest, so nothing is lost or doubled. Only whole lines are given out while a
// stream runs: a line cut by a broken stream is read again whole from the next one.
import type { RunLogChunk } from '../types.js';

const TS_RE = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;
const SECOND = 1_000_000_000n;

/**
 * A line longer than this is given out in pieces, so memory stays bounded; the pieces carry the
 * line's cursor. A stream that breaks inside such a line loses the rest of that one line (the
 * API resumes by line, not by byte).
 */
export const MAX_LINE_BYTES = 4 * 1024 * 1024;

export class LogCursorError extends Error {
  override readonly name = 'LogCursorError';
}

export class LogFormatError extends Error {
  override readonly name = 'LogFormatError';
}

export interface LogCursor {
  /** The stream's start, a whole second, in ns since the epoch. */
  sinceNs: bigint;
  /** Lines of that stream already given out. */
  count: number;
}

/** Nanoseconds since the epoch of an RFC 3339 timestamp, or undefined. */
export function timestampNs(text: string): bigint | undefined {
  const m = TS_RE.exec(text);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1] ?? ''}${m[3] ?? ''}`);
  if (Number.isNaN(ms)) return undefined;
  return BigInt(ms) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}

function floorSecond(ns: bigint): bigint {
  const r = ns % SECOND;
  return r < 0n ? ns - r - SECOND : ns - r;
}

/** A whole second as RFC 3339 (what `sinceTime` takes). */
export function secondText(ns: bigint): string {
  return new Date(Number(floorSecond(ns) / 1_000_000n)).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function formatCursor(c: LogCursor): string {
  return `${secondText(c.sinceNs)}#${c.count}`;
}

export function parseCursor(cursor: string): LogCursor {
  const hash = cursor.lastIndexOf('#');
  const ns = hash > 0 ? timestampNs(cursor.slice(0, hash)) : undefined;
  const countText = hash > 0 ? cursor.slice(hash + 1) : '';
  const count = /^\d+$/.test(countText) ? Number(countText) : NaN;
  if (ns === undefined || !Number.isSafeInteger(count)) {
    throw new LogCursorError(`invalid log cursor ${JSON.stringify(cursor)}: expected <RFC 3339 time>#<count>, as a log chunk of the kubernetes backend gives it`);
  }
  return { sinceNs: floorSecond(ns), count };
}

export class LogLines {
  /** S: where a resumed stream starts. Never goes back. */
  private since: bigint | undefined;
  /** Lines given out that a stream from S holds, by the second they are stamped in. */
  private readonly seconds = new Map<bigint, number>();
  /** Lines at the start of the current stream that were given out already. */
  private skip = 0;
  private partial: Buffer[] = [];
  private partialBytes = 0;
  /** A long line given out (or skipped) in pieces, while its rest is still to come. */
  private cont: { cursor: string; time: number; skip: boolean } | undefined;

  constructor(after?: LogCursor) {
    if (after) {
      this.since = after.sinceNs;
      this.skip = after.count;
    }
  }

  /** The `sinceTime` of the next stream; undefined: from the start. */
  resumeTime(): string | undefined {
    return this.since === undefined ? undefined : secondText(this.since);
  }

  /** A new stream begins (from resumeTime()): what it repeats is skipped, a cut line dropped. */
  restart(): void {
    this.partial = [];
    this.partialBytes = 0;
    this.cont = undefined;
    this.skip += this.given(); // the lines given, and those the last stream had still to skip
    this.seconds.clear(); // counted again while skipped
  }

  /** Bytes as they arrived; the whole lines among them, as chunks. */
  push(data: Buffer): RunLogChunk[] {
    const out: RunLogChunk[] = [];
    let start = 0;
    for (;;) {
      const nl = data.indexOf(0x0a, start);
      if (nl < 0) break;
      const c = this.line(this.take(data.subarray(start, nl + 1)), true);
      if (c) out.push(c);
      start = nl + 1;
    }
    if (start < data.length) {
      this.partial.push(Buffer.from(data.subarray(start)));
      this.partialBytes += data.length - start;
      if (this.partialBytes >= MAX_LINE_BYTES) {
        const c = this.line(this.take(Buffer.alloc(0)), false);
        if (c) out.push(c);
      }
    }
    return out;
  }

  /** The stream ended for good: a last line without "\n" is whole. */
  end(): RunLogChunk[] {
    if (this.partialBytes === 0) return [];
    const c = this.line(this.take(Buffer.alloc(0)), true);
    return c ? [c] : [];
  }

  private given(): number {
    let n = 0;
    for (const v of this.seconds.values()) n += v;
    return n;
  }

  private count(second: bigint): void {
    if (this.since !== undefined && second < this.since) return; // not in a stream from S
    this.seconds.set(second, (this.seconds.get(second) ?? 0) + 1);
  }

  private take(tail: Buffer): Buffer {
    if (this.partial.length === 0) return tail;
    const line = Buffer.concat([...this.partial, tail]);
    this.partial = [];
    this.partialBytes = 0;
    return line;
  }

  /** One line (`complete`), or the first or a further piece of a long one. */
  private line(bytes: Buffer, complete: boolean): RunLogChunk | undefined {
    const cont = this.cont;
    if (cont !== undefined) {
      // The rest of a long line: no timestamp of its own; the line's cursor.
      if (complete) this.cont = undefined;
      return bytes.length && !cont.skip ? { stream: 'stdout', time: cont.time, data: Buffer.from(bytes), cursor: cont.cursor } : undefined;
    }
    const sp = bytes.indexOf(0x20);
    const ns = sp > 0 ? timestampNs(bytes.subarray(0, sp).toString('latin1')) : undefined;
    if (ns === undefined) {
      throw new LogFormatError(`a pods/log line without a timestamp: ${JSON.stringify(bytes.subarray(0, 40).toString('latin1'))}`);
    }
    const second = floorSecond(ns);
    if (this.skip > 0) {
      this.skip--;
      this.count(second);
      if (!complete) this.cont = { cursor: '', time: 0, skip: true }; // its rest is skipped too
      return undefined;
    }
    const s = second - SECOND;
    if (this.since === undefined || s > this.since) {
      this.since = s;
      for (const k of this.seconds.keys()) if (k < s) this.seconds.delete(k);
    }
    this.count(second);
    const cursor = formatCursor({ sinceNs: this.since, count: this.given() });
    const time = Number(ns / 1_000_000n);
    if (!complete) this.cont = { cursor, time, skip: false };
    const data = bytes.subarray(sp + 1);
    if (data.length === 0) return undefined;
    return { stream: 'stdout', time, data: Buffer.from(data), cursor };
  }
}
