// The backend's one informer: every pod of its instance, listed once and then watched (never a
// poll per pod). client-node 1.4's ListWatch relists by itself after a 410 (and reports pods that
// vanished meanwhile as deleted) and re-watches from the last resourceVersion when a stream ends;
// any other failure stops it, so it is started again here, with backoff, one restart at a time.
// Handlers only hand each pod to `onPod`; nothing is answered from the cache before its first list.
//
// Its watches ask for bookmarks, which client-node's informer reads but never asks for: in a quiet
// namespace they keep the resourceVersion recent, so a watch resumed after a break or at its
// timeout starts from there instead of meeting 410 Gone and relisting everything. Each watch ends
// server-side after 5–10 minutes (spread so workers do not renew together) and is resumed from
// its resourceVersion; client-node turns TCP keep-alive on, so a dead connection is noticed too.
import { ListWatch, Watch, type Informer, type KubeConfig, type ObjectCache, type V1Pod, type V1PodList } from '@kubernetes/client-node';
import { apiError } from './api.js';

export type PodEventType = 'add' | 'update' | 'delete';

export interface PodWatchOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  labelSelector: string;
  list: (labelSelector: string) => Promise<V1PodList>;
  onPod: (type: PodEventType, pod: V1Pod) => void;
  report: (message: string) => void;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
}

interface Waiter {
  resolve: () => void;
  reject: (e: unknown) => void;
}

/** client-node's Watch, asking for bookmarks and a server-side timeout on every watch. */
class RenewingWatch extends Watch {
  override watch(path: string, queryParams: Record<string, unknown>, callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void, done: (err: unknown) => void): Promise<AbortController> {
    const timeoutSeconds = 300 + Math.floor(Math.random() * 300);
    return super.watch(path, { ...queryParams, allowWatchBookmarks: true, timeoutSeconds }, callback, done);
  }
}

export class PodWatch {
  private readonly informer: Informer<V1Pod> & ObjectCache<V1Pod>;
  private synced = false;
  private closed = false;
  private running: Promise<void> | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private delay: number;
  private waiters: Waiter[] = [];
  /** A list has come in: the cache is whole (if stale while a watch is down, as any informer's). */
  private listed = false;

  constructor(private readonly o: PodWatchOptions) {
    this.delay = o.initialBackoffMs ?? 100;
    this.informer = new ListWatch<V1Pod>(`/api/v1/namespaces/${encodeURIComponent(o.namespace)}/pods`, new RenewingWatch(o.kubeConfig), async () => {
      const l = await o.list(o.labelSelector);
      this.listed = true;
      this.delay = o.initialBackoffMs ?? 100;
      // ListWatch fills its cache as soon as this resolves, then asks for the watch (whose answer
      // start() waits for): the cache is whole from the next turn of the event loop.
      setImmediate(() => this.markSynced());
      return l;
    }, false, o.labelSelector);
    const route = (type: PodEventType) => (pod: V1Pod): void => {
      if (this.closed) return;
      this.delay = o.initialBackoffMs ?? 100;
      o.onPod(type, pod);
    };
    this.informer.on('add', route('add'));
    this.informer.on('update', route('update'));
    this.informer.on('delete', route('delete'));
    this.informer.on('error', (e: unknown) => this.failed(e));
    this.start();
  }

  /** Resolves once the cache holds a full list; rejects when the attempt under way fails before that. */
  ready(): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the kubernetes backend is closed'));
    if (this.synced) return Promise.resolve();
    if (this.restartTimer) { // someone waits: do not sit out the backoff
      clearTimeout(this.restartTimer);
      this.restartTimer = undefined;
      void (this.running ?? Promise.resolve()).then(() => this.start());
    }
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  get(name: string): V1Pod | undefined {
    return this.informer.get(name, this.o.namespace);
  }

  list(): readonly V1Pod[] {
    return this.informer.list(this.o.namespace);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.restartTimer);
    this.settle(new Error('the kubernetes backend is closed'));
    await this.informer.stop();
    // A watch asked for but not yet answered is not cut by stop() (client-node 1.4 keeps its
    // controller only once answered): stop it again once it is, without waiting long for that.
    const running = this.running;
    if (running) {
      void running.then(() => this.informer.stop());
      await Promise.race([running, new Promise((r) => setTimeout(r, 2_000).unref())]);
    }
  }

  private start(): void {
    if (this.closed || this.running) return;
    const attempt = this.informer.start().then(() => {
      if (this.running === attempt) this.running = undefined;
      this.markSynced();
    });
    this.running = attempt;
  }

  private markSynced(): void {
    if (this.listed && !this.synced && !this.closed) {
      this.synced = true;
      this.settle();
    }
  }

  private failed(e: unknown): void {
    if (this.closed) return;
    const err = apiError(e, `watching pods (${this.o.labelSelector}) in namespace ${this.o.namespace}`);
    if (!this.listed) this.settle(err);
    if (this.restartTimer) return; // one restart at a time
    this.o.report(`${err.message}; watching again in ${this.delay} ms`);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      // A failure inside start() comes before start() resolves: restart after it has.
      void (this.running ?? Promise.resolve()).then(() => this.start());
    }, this.delay);
    this.restartTimer.unref();
    this.delay = Math.min(this.delay * 2, this.o.maxBackoffMs ?? 30_000);
  }

  private settle(err?: unknown): void {
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) if (err === undefined) w.resolve(); else w.reject(err);
  }
}
