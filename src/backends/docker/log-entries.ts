// One container's log entries, as GET /containers/{id}/logs?timestamps=1 frames them, turned into
// chunks with resumable cursors. Pure (no I/O), so every edge is unit-tested.
import type { RunLogChunk } from '../types.js';

/** Docker's copier cuts a line longer than this into several entries (daemon/logger/copier.go). */
export const DOCKER_SPLIT_BYTES = 16 * 1024;

const TS_RE = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2}) /;

export class LogCursorError extends Error {
  override readonly name = 'LogCursorError';
}

/** Nanoseconds since the epoch of an RFC 3339 timestamp (nano precision), or undefined. */
export function timestampNs(text: string): bigint | undefined {
  const m = TS_RE.exec(`${text} `);
  if (!m || m[0].length !== text.length + 1) return undefined;
  const ms = Date.parse(`${m[1] ?? ''}${m[3] ?? ''}`);
  if (Number.isNaN(ms)) return undefined;
  return BigInt(ms) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0') || '0');
}

/**
 * A cursor is the entry's timestamp, plus "#n" for the n-th further entry carrying the same one
 * (every piece of a split line has the first piece's timestamp; without the count, resuming in
 * the middle of such a line would lose or repeat its rest).
 */
export interface Cursor {
  ns: bigint;
  tie: number;
}

export function parseCursor(cursor: string): Cursor {
  const hash = cursor.lastIndexOf('#');
  const ts = hash >= 0 ? cursor.slice(0, hash) : cursor;
  const tie = hash >= 0 ? Number(cursor.slice(hash + 1)) : 0;
  const ns = timestampNs(ts);
  if (ns === undefined || !Number.isSafeInteger(tie) || tie < 0) {
    throw new LogCursorError(`invalid log cursor ${JSON.stringify(cursor)}: expected an RFC 3339 timestamp, optionally followed by #<count>`);
  }
  return { ns, tie };
}

/** The `since` to ask the engine for: the cursor's whole second (it filters by time, not entry). */
export function sinceParam(c: Cursor): string {
  return String(c.ns / 1_000_000_000n);
}

export interface EntryOptions {
  after?: Cursor | undefined;
  /**
   * The `local` log driver loses the newline ending a line it had to split (the last piece comes
   * back without it); put it back. A line longer than 16 KiB that ends the stream without a
   * newline thus gains one: the API gives no way to tell the two apart.
   */
  restoreSplitNewlines: boolean;
}

type Stream = RunLogChunk['stream'];

/** Turns `(stream, frame)` pairs, in order, into chunks; entries at or before `after` are dropped. */
export class LogEntries {
  private lastNs: bigint | undefined;
  private tie = 0;
  private readonly openSplit = new Map<Stream, bigint>();

  constructor(private readonly opts: EntryOptions) {}

  push(stream: Stream, frame: Buffer): RunLogChunk | undefined {
    const sp = frame.indexOf(0x20);
    const ts = sp > 0 ? frame.subarray(0, sp).toString('latin1') : '';
    const ns = timestampNs(ts);
    if (ns === undefined) throw new LogCursorError(`a log entry without a timestamp: ${JSON.stringify(frame.subarray(0, 40).toString('latin1'))}`);
    let data = frame.subarray(sp + 1);
    this.tie = ns === this.lastNs ? this.tie + 1 : 0;
    this.lastNs = ns;
    if (this.opts.restoreSplitNewlines) data = this.restore(stream, ns, data);
    const after = this.opts.after;
    if (after && (ns < after.ns || (ns === after.ns && this.tie <= after.tie))) return undefined;
    if (data.length === 0) return undefined;
    return {
      stream,
      time: Number(ns / 1_000_000n),
      data: Buffer.from(data),
      cursor: this.tie === 0 ? ts : `${ts}#${this.tie}`,
    };
  }

  private restore(stream: Stream, ns: bigint, data: Buffer): Buffer {
    const full = data.length === DOCKER_SPLIT_BYTES && data[data.length - 1] !== 0x0a;
    const continues = this.openSplit.get(stream) === ns;
    if (full) {
      this.openSplit.set(stream, ns);
      return data;
    }
    this.openSplit.delete(stream);
    return continues && data[data.length - 1] !== 0x0a ? Buffer.concat([data, Buffer.from('\n')]) : data;
  }
}
