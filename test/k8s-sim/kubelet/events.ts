// The kubelet's one GET /events stream (container events carrying its instance label): it learns
// of every container's end from a `die` event, then reads the end's details with one inspect.
// A broken stream reconnects with `since`, and re-inspects what it was waiting for meanwhile.
import type { DockerEngine } from '../../../src/docker/engine.js';
import { EngineError } from '../../../src/docker/errors.js';
import { jsonLines } from '../../../src/docker/streams.js';

export interface ContainerInspect {
  Id: string;
  Image: string;
  State: { Status: string; Running: boolean; ExitCode: number; OOMKilled: boolean; StartedAt: string; FinishedAt: string; Error?: string };
  Config: { Tty?: boolean; Labels?: Record<string, string> };
}

interface DockerEvent {
  Type?: string;
  Action?: string;
  Actor?: { ID?: string };
  timeNano?: number;
}

interface Waiter {
  promise: Promise<ContainerInspect | undefined>;
  resolve: (i: ContainerInspect | undefined) => void;
  done: boolean;
}

export class ContainerEvents {
  private readonly aborter = new AbortController();
  private readonly waiters = new Map<string, Waiter>();
  private connected: Promise<void>;
  private markConnected: () => void = () => {};
  private closed = false;
  private lastNano = Date.now() * 1e6;
  private readonly loop: Promise<void>;

  constructor(private readonly engine: DockerEngine, private readonly label: string, private readonly report: (msg: string) => void) {
    this.connected = new Promise((r) => { this.markConnected = r; });
    this.loop = this.run();
  }

  /** Resolves once the stream is subscribed: start no container before. */
  ready(): Promise<void> {
    return this.connected;
  }

  /** The container's inspect once it has stopped; undefined if it vanished. */
  exited(id: string): Promise<ContainerInspect | undefined> {
    return this.waiter(id).promise;
  }

  forget(id: string): void {
    this.waiters.delete(id);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.aborter.abort();
    this.markConnected();
    await this.loop;
    for (const w of this.waiters.values()) if (!w.done) { w.done = true; w.resolve(undefined); }
  }

  private waiter(id: string): Waiter {
    let w = this.waiters.get(id);
    if (!w) {
      let resolve: (i: ContainerInspect | undefined) => void = () => {};
      const promise = new Promise<ContainerInspect | undefined>((r) => { resolve = r; });
      w = { promise, resolve, done: false };
      this.waiters.set(id, w);
    }
    return w;
  }

  private async run(): Promise<void> {
    let delay = 50;
    let reconnecting = false;
    while (!this.closed) {
      try {
        // Events are buffered by the engine: ask from a little before the last one seen.
        const since = ((this.lastNano - 1e9) / 1e9).toFixed(3);
        const res = await this.engine.stream('GET', '/events', {
          query: { filters: { type: ['container'], label: [this.label] }, since },
          signal: this.aborter.signal,
        });
        this.markConnected();
        delay = 50;
        if (reconnecting) void this.recheck();
        for await (const ev of jsonLines<DockerEvent>(res)) {
          if (ev.timeNano) this.lastNano = Math.max(this.lastNano, ev.timeNano);
          const id = ev.Actor?.ID;
          if (id && (ev.Action === 'die' || ev.Action === 'destroy')) void this.settle(id);
        }
      } catch (e) {
        if (this.closed) break;
        this.report(`the Docker events stream failed (${(e as Error).message}); reconnecting`);
      }
      if (this.closed) break;
      reconnecting = true;
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 2000);
    }
  }

  /** After a gap in the stream: whatever stopped meanwhile. */
  private async recheck(): Promise<void> {
    for (const [id, w] of this.waiters) if (!w.done) await this.settle(id, true);
  }

  private async settle(id: string, onlyIfStopped = false): Promise<void> {
    const w = this.waiter(id);
    if (w.done) return;
    let inspect: ContainerInspect | undefined;
    try {
      inspect = await this.engine.request<ContainerInspect>('GET', `/containers/${id}/json`);
    } catch (e) {
      if (!(e instanceof EngineError && e.status === 404)) {
        this.report(`inspecting container ${id} failed: ${(e as Error).message}`);
        return;
      }
    }
    if (onlyIfStopped && inspect && !['exited', 'dead'].includes(inspect.State.Status)) return;
    if (w.done) return;
    w.done = true;
    w.resolve(inspect);
  }
}
