// The one GET /events stream of a backend: container events of its instance's label. When it
// breaks it reconnects with `since` = the last event's time (less a replay window), so nothing in
// between is missed; events that come twice are dropped.
import { formatError } from '../../core/format-error.js';
import type { DockerEngine } from '../../docker/engine.js';
import { jsonLines } from '../../docker/streams.js';

export interface ContainerEvent {
  Type?: string;
  Action?: string;
  status?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
  time?: number;
  timeNano?: number;
}

export interface EventStreamOptions {
  engine: DockerEngine;
  labels: string[];
  onEvent: (e: ContainerEvent) => void;
  /** After a reconnect: what happened while the stream was down may be past the engine's memory. */
  onReconnect: () => void;
  report: (message: string) => void;
  /** Longest wait between reconnection attempts. */
  maxBackoffMs?: number;
}

interface Waiter {
  resolve: () => void;
  reject: (e: unknown) => void;
}

export class EventStream {
  private closed = false;
  private connected = false;
  private waiters: Waiter[] = [];
  private readonly aborter = new AbortController();
  private lastNano: number | undefined;
  /** Events of the replay window, by key, with their time: what a reconnect's `since` sends again. */
  private readonly recent = new Map<string, number>();
  private wake: (() => void) | undefined;
  private readonly loop: Promise<void>;

  constructor(private readonly o: EventStreamOptions) {
    this.loop = this.run();
  }

  /** Resolves when the stream is open (now or after the attempt in progress); rejects if that attempt fails. */
  ready(): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the docker backend is closed'));
    if (this.connected) return Promise.resolve();
    this.wake?.(); // do not sit out a backoff while someone waits
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  async close(): Promise<void> {
    this.closed = true;
    this.aborter.abort();
    this.wake?.();
    this.settle(new Error('the docker backend is closed'));
    await this.loop;
  }

  private settle(err?: unknown): void {
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) if (err === undefined) w.resolve(); else w.reject(err);
  }

  private async run(): Promise<void> {
    let delay = 100;
    let everConnected = false;
    while (!this.closed) {
      try {
        const since = this.lastNano === undefined ? undefined : nanoParam(this.lastNano);
        const res = await this.o.engine.stream('GET', '/events', {
          query: { filters: { type: ['container'], label: this.o.labels }, since },
          signal: this.aborter.signal,
        });
        this.connected = true;
        delay = 100;
        this.settle();
        if (everConnected) this.o.onReconnect();
        everConnected = true;
        for await (const ev of jsonLines<ContainerEvent>(res)) this.handle(ev);
        if (!this.closed) this.o.report('the Docker events stream ended; reconnecting');
      } catch (e) {
        if (this.closed) break;
        if (!this.connected) this.settle(e);
        this.o.report(`the Docker events stream failed (${formatError(e)}); reconnecting`);
      }
      this.connected = false;
      if (this.closed) break;
      await new Promise<void>((r) => {
        const t = setTimeout(r, delay);
        this.wake = () => { clearTimeout(t); r(); };
      });
      this.wake = undefined;
      delay = Math.min(delay * 2, this.o.maxBackoffMs ?? 5_000);
    }
  }

  private handle(ev: ContainerEvent): void {
    const nano = ev.timeNano ?? (ev.time ?? 0) * 1e9;
    const key = `${ev.Actor?.ID ?? ''}|${ev.Action ?? ev.status ?? ''}|${nano}`;
    if (this.recent.has(key)) return; // replayed after a reconnect
    this.recent.set(key, nano);
    if (this.lastNano === undefined || nano > this.lastNano) this.lastNano = nano;
    // Insertion order is nearly time order: drop from the front what is past the replay window.
    for (const [k, t] of this.recent) {
      if (t >= this.lastNano - 2 * REPLAY_NS) break;
      this.recent.delete(k);
    }
    this.o.onEvent(ev);
  }
}

/**
 * Events are stamped before they are published, by several goroutines, so they can come a little
 * out of order: a reconnect asks from this much before the last one seen, and drops repeats.
 */
const REPLAY_NS = 1e9;

/** `since` as "seconds.nanoseconds" (timeNano exceeds 2^53, so it is rounded: the window covers it). */
function nanoParam(nano: number): string {
  const ns = BigInt(Math.round(nano - REPLAY_NS));
  return `${ns / 1_000_000_000n}.${String(ns % 1_000_000_000n).padStart(9, '0')}`;
}
