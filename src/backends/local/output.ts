// A run's merged stdout/stderr on their way to the one reader. Bounded: above HIGH_WATER queued
// bytes the pipes are paused, so a task that writes faster than the reader reads blocks in
// write() instead of growing the worker's memory.
import type { Readable } from 'node:stream';
import type { RunLogChunk } from '../types.js';

const HIGH_WATER = 1024 * 1024;
const LOW_WATER = 256 * 1024;

export class OutputQueue {
  private readonly chunks: (RunLogChunk | undefined)[] = [];
  private head = 0;
  private bytes = 0;
  private paused = false;
  private sources: Readable[] = [];
  private wake: (() => void) | undefined;
  private claimed = false;
  /** No more chunks will come: the pipes closed (or the run was removed). */
  ended = false;
  /** Bumped on every chunk, so a watchdog can tell a silent pipe from a busy one. */
  received = 0;

  constructor(private readonly runId: string) {}

  attach(stream: RunLogChunk['stream'], source: Readable): void {
    this.sources.push(source);
    source.on('data', (data: Buffer) => this.push({ stream, time: Date.now(), data }));
    if (this.paused) source.pause();
  }

  get isPaused(): boolean {
    return this.paused;
  }

  get length(): number {
    return this.chunks.length - this.head;
  }

  private push(chunk: RunLogChunk): void {
    if (this.ended) return;
    this.chunks.push(chunk);
    this.bytes += chunk.data.length;
    this.received++;
    if (!this.paused && this.bytes >= HIGH_WATER) {
      this.paused = true;
      for (const s of this.sources) s.pause();
    }
    this.notify();
  }

  shift(): RunLogChunk | undefined {
    if (this.head >= this.chunks.length) return undefined;
    const chunk = this.chunks[this.head];
    this.chunks[this.head++] = undefined; // let the buffer go now
    if (this.head > 1024 && this.head * 2 > this.chunks.length) {
      this.chunks.splice(0, this.head);
      this.head = 0;
    }
    if (!chunk) return undefined;
    this.bytes -= chunk.data.length;
    if (this.paused && this.bytes <= LOW_WATER) {
      this.paused = false;
      for (const s of this.sources) s.resume();
    }
    return chunk;
  }

  end(): void {
    this.ended = true;
    this.notify();
  }

  /** Drops what is queued and ends: the run is being removed. */
  discard(): void {
    this.chunks.length = 0;
    this.head = 0;
    this.bytes = 0;
    this.end();
  }

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private next(): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
    });
  }

  /** The chunks, consumed as they are yielded; one reader at a time. */
  async *read(follow: boolean): AsyncGenerator<RunLogChunk> {
    if (this.claimed) throw new Error(`the output of run ${this.runId} is already being read`);
    this.claimed = true;
    try {
      // Without follow: what is queued now, not what arrives while the reader works through it.
      let left = follow ? Infinity : this.length;
      while (left > 0) {
        const chunk = this.shift();
        if (chunk) {
          left--;
          yield chunk;
        } else if (this.ended || !follow) {
          return;
        } else {
          await this.next();
        }
      }
    } finally {
      this.claimed = false;
    }
  }
}
