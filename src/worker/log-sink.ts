// Captures one attempt's output into the store: decoded per stream so a UTF-8 character split
// across chunks survives, capped with a visible marker, batched so that a fast writer costs few
// transactions, and flushed soon enough that followers see output live. With an attempt's
// secrets given (redact()), every text is masked before it is stored: output per stream by a
// streaming redactor (a value split across chunks is still caught), Wharf's own lines whole.
// The cap counts the output's bytes as the task wrote them, not the masked text.
import { StringDecoder } from 'node:string_decoder';
import type { RunLogChunk } from '../backends/types.js';
import type { Redactor, StreamRedactor } from '../core/redact.js';
import type { LogStream } from '../spec/api.js';
import type { Fenced, NewLogChunk } from '../store/types.js';

export const DEFAULT_LOG_CAP = 64 * 1024 * 1024;
const FLUSH_BYTES = 256 * 1024;
const MAX_ROW_CHARS = 64 * 1024;

export interface LogSinkOptions {
  /** Stores a batch, with the backend's cursor just after it when it gives one; a refusal (lease lost) stops the sink. */
  write: (chunks: readonly NewLogChunk[], cursor: string | undefined) => Promise<Fenced>;
  capBytes?: number;
  flushMs?: number;
  now?: () => number;
}

export class LeaseLostError extends Error {
  constructor() {
    super('the lease on this attempt was lost; another worker may own it now');
    this.name = 'LeaseLostError';
  }
}

export class LogSink {
  private readonly decoders = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };
  private redactor: Redactor | undefined;
  private masks: Record<'stdout' | 'stderr', StreamRedactor> | undefined;
  private readonly cap: number;
  private readonly flushMs: number;
  private readonly now: () => number;
  private pending: NewLogChunk[] = [];
  private pendingBytes = 0;
  private stored = 0;
  private dropped = 0;
  private carry = 0;
  /** The cursor of the last chunk taken (stored with the batch that holds it). */
  private cursor: string | undefined;
  private cursorMoved = false;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private failure: Error | undefined;

  constructor(private readonly opts: LogSinkOptions) {
    this.cap = opts.capBytes ?? DEFAULT_LOG_CAP;
    this.flushMs = opts.flushMs ?? 50;
    this.now = opts.now ?? Date.now;
  }

  /** Masks these secrets from now on; call before the first output arrives. */
  redact(redactor: Redactor): void {
    if (this.stored > 0) throw new Error('the log sink already took output: secrets must be set before the run starts');
    this.redactor = redactor;
    this.masks = { stdout: redactor.stream(), stderr: redactor.stream() };
  }

  /** Takes a chunk of output; the promise resolves when the sink is ready for more (backpressure). */
  async write(chunk: RunLogChunk): Promise<void> {
    if (this.failure) throw this.failure;
    const room = this.cap - this.stored;
    const data = chunk.data.length > room ? chunk.data.subarray(0, Math.max(0, room)) : chunk.data;
    if (data.length > 0) {
      this.stored += data.length;
      // A character cut by the cap stays in the decoder and is never emitted half.
      this.add(chunk.stream, this.masked(chunk.stream, this.decoders[chunk.stream].write(data)), data.length, chunk.time);
    }
    if (chunk.cursor !== undefined) {
      this.cursor = chunk.cursor;
      this.cursorMoved = true;
    }
    if (data.length < chunk.data.length) {
      if (this.dropped === 0) {
        // Nothing more is taken from either stream: what the redactors hold back goes before the marker.
        for (const stream of ['stdout', 'stderr'] as const) this.add(stream, this.masks?.[stream].flush() ?? '', 0, chunk.time);
        this.add('system', `[wharf] log truncated: the ${formatBytes(this.cap)} cap was reached; later output is dropped\n`, 0, chunk.time, true);
      }
      this.dropped += chunk.data.length - data.length;
    }
    if (this.pendingBytes >= FLUSH_BYTES) await this.flush();
    else this.schedule();
  }

  /** A line from Wharf itself (timeouts, cancel, …), shown with the output. */
  system(text: string): void {
    const masked = this.redactor ? this.redactor.redact(text) : text;
    this.add('system', masked.endsWith('\n') ? masked : `${masked}\n`, 0, this.now());
    this.schedule();
  }

  /** Flushes everything, including a last line without a newline. */
  async close(): Promise<void> {
    for (const stream of ['stdout', 'stderr'] as const) {
      const rest = this.stored < this.cap ? this.masked(stream, this.decoders[stream].end()) : '';
      this.add(stream, rest + (this.masks?.[stream].flush() ?? ''), 0, this.now());
    }
    if (this.dropped > 0) this.add('system', `[wharf] ${this.dropped} bytes of output were dropped\n`, 0, this.now());
    await this.flush();
    if (this.failure) throw this.failure;
  }

  get bytesStored(): number {
    return this.stored;
  }

  private masked(stream: 'stdout' | 'stderr', text: string): string {
    return this.masks && text !== '' ? this.masks[stream].push(text) : text;
  }

  private add(stream: LogStream, text: string, raw: number, time: number, truncated = false): void {
    // Bytes of a character still incomplete in the decoder count with the text that completes it.
    if (text.length === 0 && !truncated) {
      this.carry += raw;
      return;
    }
    const bytes = raw + this.carry;
    this.carry = 0;
    const last = this.pending[this.pending.length - 1];
    if (last && last.stream === stream && !last.truncated && !truncated && last.text.length + text.length <= MAX_ROW_CHARS) {
      last.text += text;
      last.bytes += bytes;
    } else {
      const c: NewLogChunk = { stream, time, text, bytes };
      if (truncated) c.truncated = true;
      this.pending.push(c);
    }
    this.pendingBytes += text.length;
  }

  private schedule(): void {
    if (this.timer || (this.pending.length === 0 && !this.cursorMoved)) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush().catch(() => { /* kept in this.failure, rethrown by write/close */ });
    }, this.flushMs);
  }

  private flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    // Batches go out one at a time and in order.
    this.flushing = this.flushing.then(async () => {
      if ((this.pending.length === 0 && !this.cursorMoved) || this.failure) return;
      const batch = this.pending;
      this.pending = [];
      this.pendingBytes = 0;
      this.cursorMoved = false;
      const r = await this.opts.write(batch, this.cursor);
      if (!r.ok) this.failure = new LeaseLostError();
    });
    return this.flushing.then(() => { if (this.failure) throw this.failure; });
  }
}

function formatBytes(n: number): string {
  if (n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}
