// The worker: the one place where the store meets the backends. It claims ready attempts up to
// its concurrency, runs each with an AttemptRunner, and keeps the system honest: expired leases
// become `worker lost` (their runs killed first, so no attempt runs twice at once) and runs that
// no live claim owns are reaped.
//
// Wake-ups: a store nudge (new attempts queued), a finished attempt freeing a slot, a timer to
// the earliest backoff, and a slow safety sweep for writers in other processes.
// Shutdown: drain() stops claiming and lets attempts finish until a deadline, then stops them;
// stop() does the same with no wait.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { LABELS, type Backend } from '../backends/types.js';
import { formatError } from '../core/format-error.js';
import { textLog, type Log } from '../core/log.js';
import type { SecretSource } from '../secrets/index.js';
import type { BackendName } from '../spec/schema.js';
import type { Claim, ExpiredAttempt, Store } from '../store/types.js';
import { WORKER_HEARTBEAT_MS, type WorkerRegistry } from '../store/workers.js';
import { AttemptRunner, type ImageSource } from './attempt-runner.js';
import { DEFAULT_LOG_CAP } from './log-sink.js';
import { NO_METRICS, tally, type WorkerMetrics } from './metrics.js';
import { RunWatcher } from './run-watcher.js';

export interface WorkerOptions {
  store: Store;
  backends: readonly Backend[];
  workerId?: string;
  concurrency?: number;
  leaseMs?: number;
  heartbeatMs?: number;
  /** Between SIGTERM and SIGKILL when an attempt is stopped. */
  graceMs?: number;
  logCapBytes?: number;
  /** How often to look for expired leases and orphaned runs. */
  sweepMs?: number;
  /** The longest the claim loop sleeps without a nudge. */
  safetyPollMs?: number;
  /** Where the worker tells what it does (info) and what went wrong (warn); default: warnings as text on stderr. */
  log?: Log;
  /** Claim only this job's attempts (the CLI's in-process mode runs its own job, nothing else). */
  onlyJob?: string;
  /** Counts claims, outcomes, lost leases, log bytes and backend errors (default: nothing). */
  metrics?: WorkerMetrics;
  /** Builds images for tasks with a `build`; without it they fail to start, saying why. */
  images?: ImageSource;
  /** The values of tasks' secrets (storeSecrets); without it tasks with secrets fail to start, saying why. */
  secrets?: SecretSource;
  /** Where the worker registers itself and beats (for `wharf workers` and queued reasons); none: it stays unlisted. */
  registry?: WorkerRegistry;
  /** How often it tells the registry it is alive (default WORKER_HEARTBEAT_MS). */
  presenceMs?: number;
  /** Shown with the worker in the registry (`--label k=v`). */
  labels?: Record<string, string>;
}

export const WORKER_DEFAULTS = {
  concurrency: 8, leaseMs: 15_000, graceMs: 10_000, safetyPollMs: 2_000,
} as const;

export class Worker {
  readonly id: string;
  private readonly store: Store;
  private readonly backends = new Map<BackendName, { backend: Backend; watcher: RunWatcher }>();
  private readonly active = new Map<string, AttemptRunner>();
  private readonly o: Required<Omit<WorkerOptions, 'store' | 'backends' | 'workerId' | 'onlyJob' | 'images' | 'secrets' | 'registry' | 'labels'>>;
  private readonly images: ImageSource | undefined;
  private readonly secrets: SecretSource | undefined;
  private readonly onlyJob: string | undefined;
  private state: 'idle' | 'running' | 'draining' | 'stopped' = 'idle';
  private wake: (() => void) | undefined;
  /** Set by a kick that came while the loop was busy, so the wake-up is not lost. */
  private kicked = false;
  private loop: Promise<void> | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;
  private unsubscribe: (() => void) | undefined;
  private loopError: unknown;
  private readonly registry: WorkerRegistry | undefined;
  private readonly labels: Record<string, string>;
  private readonly startedAt = Date.now();
  private presenceTimer: NodeJS.Timeout | undefined;
  private beating: Promise<void> | undefined;

  constructor(opts: WorkerOptions) {
    this.store = opts.store;
    this.id = opts.workerId ?? `w-${randomBytes(6).toString('hex')}`;
    this.onlyJob = opts.onlyJob;
    this.images = opts.images;
    this.secrets = opts.secrets;
    this.registry = opts.registry;
    this.labels = opts.labels ?? {};
    const leaseMs = opts.leaseMs ?? WORKER_DEFAULTS.leaseMs;
    this.o = {
      concurrency: opts.concurrency ?? WORKER_DEFAULTS.concurrency,
      leaseMs,
      heartbeatMs: opts.heartbeatMs ?? Math.max(50, Math.min(2_000, Math.floor(leaseMs / 3))),
      graceMs: opts.graceMs ?? WORKER_DEFAULTS.graceMs,
      logCapBytes: opts.logCapBytes ?? DEFAULT_LOG_CAP,
      sweepMs: opts.sweepMs ?? Math.max(50, Math.floor(leaseMs / 2)),
      safetyPollMs: opts.safetyPollMs ?? WORKER_DEFAULTS.safetyPollMs,
      log: (opts.log ?? textLog('wharf worker', (l) => process.stderr.write(l))),
      metrics: opts.metrics ?? NO_METRICS,
      presenceMs: opts.presenceMs ?? WORKER_HEARTBEAT_MS,
    };
    for (const backend of opts.backends) this.backends.set(backend.name, { backend, watcher: new RunWatcher(backend) });
  }

  /** True while the claim loop runs (for /ready). */
  get alive(): boolean {
    return (this.state === 'running' || this.state === 'draining') && this.loopError === undefined;
  }

  async start(): Promise<void> {
    if (this.state !== 'idle') throw new Error(`worker ${this.id} was already started`);
    this.state = 'running';
    this.unsubscribe = this.store.onChange((c) => {
      if (c.type === 'attempts_queued') this.kick();
      else if (c.type === 'stop_requested') this.active.get(c.attemptId)?.requestStop(c.reason);
    });
    await this.register();
    this.schedulePresence();
    await this.sweep();
    this.scheduleSweep();
    this.loop = this.claimLoop().catch((e: unknown) => {
      this.loopError = e;
      this.o.log.error(`the claim loop stopped: ${formatError(e)}`);
    });
  }

  /** Stops claiming; waits for running attempts until `deadlineMs`, then stops them. */
  async drain(deadlineMs: number): Promise<void> {
    if (this.state === 'stopped') return;
    if (this.state === 'idle') return this.close();
    this.state = 'draining';
    this.kick();
    await this.loop; // a claim in flight launches its runners before we count them
    const all = Promise.all([...this.active.values()].map((r) => r.done));
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'deadline'>((resolve) => { timer = setTimeout(() => resolve('deadline'), deadlineMs); });
    const first = await Promise.race([all.then(() => 'done' as const), deadline]);
    clearTimeout(timer);
    if (first === 'deadline') {
      for (const r of this.active.values()) r.requestStop('the worker is shutting down');
      await Promise.all([...this.active.values()].map((r) => r.done));
    }
    await this.close();
  }

  /** Stops every running attempt (with the grace period) and shuts down. */
  stop(): Promise<void> {
    return this.drain(0);
  }

  private async close(): Promise<void> {
    this.state = 'stopped';
    this.kick();
    if (this.sweepTimer) clearTimeout(this.sweepTimer);
    if (this.presenceTimer) clearTimeout(this.presenceTimer);
    this.unsubscribe?.();
    await this.loop;
    await this.sweeping;
    await this.beating;
    if (this.registry) {
      await this.registry.unregister(this.id).catch((e: unknown) => this.o.log.warn(`could not unregister from the worker registry: ${formatError(e)}`));
    }
    for (const { watcher } of this.backends.values()) watcher.close();
  }

  /** Tells the registry who this worker is. A registry failure is only logged: the worker runs on. */
  private async register(): Promise<void> {
    if (!this.registry) return;
    try {
      await this.registry.register({
        id: this.id, host: hostname(), pid: process.pid, backends: [...this.backends.keys()], labels: this.labels,
        capacity: this.o.concurrency, startedAt: this.startedAt,
      });
    } catch (e) {
      this.o.log.warn(`could not register in the worker registry: ${formatError(e)}`);
    }
  }

  private schedulePresence(): void {
    const registry = this.registry;
    if (!registry || this.state === 'stopped') return;
    this.presenceTimer = setTimeout(() => {
      this.beating = registry.heartbeat(this.id, this.active.size)
        // Unknown: someone removed the row (or the database was restored); say who we are again.
        .then((known) => (known ? undefined : this.register()))
        .catch((e: unknown) => this.o.log.warn(`worker registry heartbeat: ${formatError(e)}`))
        .finally(() => this.schedulePresence());
    }, this.o.presenceMs);
  }

  private kick(): void {
    this.kicked = true;
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private async claimLoop(): Promise<void> {
    const names = [...this.backends.keys()];
    while (this.state === 'running') {
      this.kicked = false;
      const free = this.o.concurrency - this.active.size;
      let claimed = 0;
      if (free > 0) {
        const claims = await this.store.claimAttempts({
          workerId: this.id, backends: names, leaseMs: this.o.leaseMs, limit: free, ...(this.onlyJob ? { jobId: this.onlyJob } : {}),
        });
        claimed = claims.length;
        for (const claim of claims) {
          this.o.metrics.claimed(claim.backend);
          this.launch(claim);
        }
        if (claimed === free) continue; // there may be more
      }
      if (this.state !== 'running') break;
      const next = free > 0 ? await this.store.nextQueuedAt(names) : undefined;
      const delay = next === undefined ? this.o.safetyPollMs : Math.max(0, Math.min(this.o.safetyPollMs, next - Date.now()));
      if (this.kicked) continue; // a nudge came while we were busy
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => { this.wake = undefined; resolve(); }, delay);
        this.wake = () => { clearTimeout(t); resolve(); };
      });
    }
  }

  private launch(claim: Claim): void {
    const entry = this.backends.get(claim.backend);
    if (!entry) {
      // Claimed only for our backends, so this is a bug: fail it visibly rather than hold it.
      void this.store.finishAttempt(claim, { kind: 'error', reason: `no ${claim.backend} backend in worker ${this.id}` })
        .then((r) => { if (r.ok) this.o.metrics.ended(claim.backend, 'error', 0); });
      return;
    }
    const log = this.o.log.child({ jobId: claim.jobId, task: claim.task, attempt: claim.attempt, attemptId: claim.attemptId });
    log.info(claim.adopted ? 'attempt taken over' : 'attempt claimed', { backend: claim.backend, worker: this.id });
    const runner = new AttemptRunner(claim, {
      store: this.store, backend: entry.backend, watcher: entry.watcher, leaseMs: this.o.leaseMs,
      heartbeatMs: this.o.heartbeatMs, graceMs: this.o.graceMs, logCapBytes: this.o.logCapBytes,
      log,
      metrics: this.o.metrics, images: this.images, secrets: this.secrets,
    });
    this.active.set(claim.attemptId, runner);
    void runner.done.then(() => {
      this.active.delete(claim.attemptId);
      this.kick();
    });
  }

  private scheduleSweep(): void {
    if (this.state === 'stopped') return;
    const jitter = Math.floor(Math.random() * this.o.sweepMs * 0.2);
    this.sweepTimer = setTimeout(() => {
      this.sweeping = this.sweep()
        .catch((e: unknown) => this.o.log.warn(`sweep: ${formatError(e)}`))
        .finally(() => this.scheduleSweep());
    }, this.o.sweepMs + jitter);
  }

  /**
   * Ends attempts whose worker vanished and frees runs nobody owns. A lost attempt's run is
   * taken over when its backend can (a container outlives its worker), or else killed before the
   * attempt is marked lost, because marking it lost may start its retry.
   */
  private async sweep(): Promise<void> {
    for (const a of await this.store.expiredAttempts()) {
      if (this.active.has(a.attemptId)) continue; // ours: its runner finds the lease lost and stops it
      const entry = this.backends.get(a.backend);
      if (entry) {
        const runs = await entry.backend.listOwned({ [LABELS.attemptId]: a.attemptId });
        if (this.mayAdopt(a, entry.backend, runs.length)) {
          // Undefined: renewed, ended or taken by another worker meanwhile; not ours to touch.
          const claim = await this.store.adoptAttempt(a, { workerId: this.id, leaseMs: this.o.leaseMs });
          if (claim) {
            this.o.metrics.claimed(claim.backend);
            this.launch(claim);
          }
          continue;
        }
        for (const run of runs) {
          await tally(this.o.metrics, a.backend, 'stop', entry.backend.stop(run.runId, 0));
          await tally(this.o.metrics, a.backend, 'remove', entry.backend.remove(run.runId));
        }
        // A worker that died half-way through a start may have left parts no run lists (a
        // pod's pull secret made before the pod): removing the run by its id takes those too.
        if (runs.length === 0) await tally(this.o.metrics, a.backend, 'remove', entry.backend.remove(a.attemptId));
      }
      if (await this.store.markLost(a, 'worker lost')) {
        this.o.metrics.attemptLost();
        this.o.log.warn('attempt lost: its worker stopped renewing the lease', { jobId: a.jobId, task: a.task, attempt: a.attempt, attemptId: a.attemptId, worker: a.workerId });
      }
    }
    await this.reapOrphans();
  }

  /** Whether to take over the one run of an expired attempt: its backend can, and there is room. */
  private mayAdopt(a: ExpiredAttempt, backend: Backend, runs: number): boolean {
    return backend.canAdopt && runs === 1 && this.state === 'running' && this.active.size < this.o.concurrency
      && (this.onlyJob === undefined || a.jobId === this.onlyJob);
  }

  private async reapOrphans(): Promise<void> {
    for (const { backend } of this.backends.values()) {
      const runs = (await backend.listOwned({ [LABELS.instance]: this.store.instanceId }))
        .filter((r) => !this.active.has(r.runId));
      if (runs.length === 0) continue;
      const ids = runs.map((r) => r.labels[LABELS.attemptId] ?? r.runId);
      const states = await this.store.attemptStates(ids);
      const now = Date.now();
      for (const [i, run] of runs.entries()) {
        const s = states.get(ids[i] ?? '');
        // A live lease belongs to another worker sharing this host; leave its run alone.
        if (s?.state === 'running' && s.leaseExpiresAt !== null && s.leaseExpiresAt > now) continue;
        await tally(this.o.metrics, backend.name, 'stop', backend.stop(run.runId, 0));
        await tally(this.o.metrics, backend.name, 'remove', backend.remove(run.runId));
      }
    }
  }
}
