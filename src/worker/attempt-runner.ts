// Drives one claimed attempt to its end: start the run, capture its logs, renew the lease,
// enforce the timeout, honour a stop request, record the outcome, remove the run.
// It always ends in exactly one of: the outcome recorded, or the lease found lost (then the
// run is stopped and nothing more is written, since another worker may own the attempt now).
// A task's secrets are fetched before anything else and masked from then on in its logs, its
// outcome and whatever is reported about it.
import { LABELS, type Backend, type RunExit, type RunSecrets, type StartRequest } from '../backends/types.js';
import { formatError } from '../core/format-error.js';
import type { Log } from '../core/log.js';
import { describeOutcome, type AttemptOutcome } from '../core/states.js';
import type { BuildPlan, TaskPlan } from '../spec/plan.js';
import type { SecretSource } from '../secrets/index.js';
import type { Claim, Store } from '../store/types.js';
import { maskOutcome, resolveSecrets } from './attempt-secrets.js';
import { LeaseLostError, LogSink } from './log-sink.js';
import { tally, type BackendOp, type WorkerMetrics } from './metrics.js';
import type { RunWatcher } from './run-watcher.js';

export interface RunnerOptions {
  store: Store;
  backend: Backend;
  watcher: RunWatcher;
  leaseMs: number;
  heartbeatMs: number;
  graceMs: number;
  logCapBytes: number;
  /** This attempt's log (its ids bound): what happened (info), problems that end no attempt (warn). */
  log: Log;
  metrics: WorkerMetrics;
  /** Builds the images of tasks that ask for a build; without it such tasks cannot start. */
  images: ImageSource | undefined;
  /** Gives tasks their secrets; without it tasks that have secrets cannot start. */
  secrets: SecretSource | undefined;
}

/** What turns a task's build into an image reference (builders' ImageBuilds). */
export interface ImageSource {
  resolve(build: BuildPlan, log: (line: string) => void, signal: AbortSignal): Promise<{ image: string }>;
}

type StopCause = { kind: 'cancel'; reason: string } | { kind: 'timeout'; afterMs: number } | { kind: 'lease_lost' };

export class AttemptRunner {
  private stopCause: StopCause | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  private started: Promise<void> = Promise.resolve();
  private readonly claimedAt = performance.now();
  /** Aborts a build in progress when the attempt is stopped. */
  private readonly aborter = new AbortController();
  /** Masks the attempt's secret values (once they are known) in text that leaves the runner. */
  private mask: (text: string) => string = (text) => text;
  /** Settles when the attempt is over for this worker. */
  readonly done: Promise<void>;

  constructor(readonly claim: Claim, private readonly o: RunnerOptions) {
    // Never rejects: whatever went wrong is reported, and the lease decides what happens next.
    this.done = this.run().catch((e: unknown) => this.report(`attempt ${claim.attemptId}: ${formatError(e)}`));
  }

  /** Stops the run with the grace period; the attempt ends `canceled` unless it succeeds first. */
  requestStop(reason: string): void {
    this.stop({ kind: 'cancel', reason });
  }

  private async run(): Promise<void> {
    const { claim, o } = this;
    const runId = claim.attemptId;
    const sink = new LogSink({
      write: async (chunks, cursor) => {
        const r = await o.store.appendLogs(claim, chunks, cursor);
        if (r.ok) for (const c of chunks) if (c.stream !== 'system' && c.bytes > 0) o.metrics.logBytes(c.stream, c.bytes);
        return r;
      },
      capBytes: o.logCapBytes,
    });
    let waiting: string | undefined;
    const ended = o.watcher.wait(runId, (s) => {
      if (s.phase === 'starting' && s.message && s.message !== waiting) sink.system(`[wharf] waiting: ${(waiting = s.message)}`);
      if (s.phase !== 'running') return;
      o.log.info('attempt running', { backend: claim.backend });
      this.started = o.store.markStarted(claim).then(
        (r) => { if (!r.ok) this.stop({ kind: 'lease_lost' }); },
        (e: unknown) => this.report(`recording the start of ${runId}: ${formatError(e)}`),
      );
    });
    this.heartbeat();
    if (claim.plan.timeoutMs !== undefined) {
      const afterMs = claim.plan.timeoutMs;
      // A run taken over has been going since it started under its first worker.
      const ranMs = claim.adopted?.startedAt ? Date.now() - claim.adopted.startedAt : 0;
      this.timers.push(setTimeout(() => this.stop({ kind: 'timeout', afterMs }), Math.max(0, afterMs - ranMs)));
    }
    let outcome: AttemptOutcome;
    try {
      const prepared = await this.prepare(sink);
      if (!prepared.ok) throw new NotStarted(prepared.outcome);
      // Together: a log write refused (lease lost) must end the wait at once, not after the run.
      const [end] = await Promise.all([ended, this.pumpLogs(sink, runId)]);
      outcome = this.outcomeOf(end.exit);
      // Say in the log why it ended whenever the output alone does not show it.
      if (outcome.kind !== 'succeeded' && outcome.kind !== 'exited') sink.system(`[wharf] ${describeOutcome(outcome)}`);
      await sink.close();
    } catch (e) {
      if (this.stopCause?.kind === 'lease_lost' || e instanceof LeaseLostError) return this.abandon(runId);
      const notStarted = e instanceof NotStarted;
      outcome = notStarted ? e.outcome : { kind: 'error', reason: formatError(e) };
      sink.system(`[wharf] ${notStarted ? describeOutcome(outcome) : formatError(e)}`);
      await sink.close().catch((err: unknown) => this.report(`storing the last logs of ${runId}: ${formatError(err)}`));
      if (!notStarted) await this.stopRun(0);
    } finally {
      for (const t of this.timers) clearTimeout(t);
      o.watcher.forget(runId);
    }
    await this.started;
    if (this.stopCause?.kind === 'lease_lost') return this.abandon(runId);
    const r = await o.store.finishAttempt(claim, maskOutcome(outcome, this.mask));
    if (!r.ok) return this.abandon(runId);
    o.log.info('attempt ended', { backend: claim.backend, outcome: outcome.kind, result: this.mask(describeOutcome(outcome)) });
    o.metrics.ended(claim.backend, outcome.kind, (performance.now() - this.claimedAt) / 1000);
    await this.tally('remove', o.backend.remove(runId));
  }

  /**
   * Gets the run going: builds the image if the task asks for one, then starts it; or, for a run
   * taken over from a lost worker, reads where it is (its end may have come while nobody watched).
   */
  private async prepare(sink: LogSink): Promise<{ ok: true } | { ok: false; outcome: AttemptOutcome }> {
    const { claim, o } = this;
    const runId = claim.attemptId;
    const secrets = await resolveSecrets(claim.plan.secrets, o.secrets);
    if (!secrets.ok) {
      // A run taken over is going already; unable to mask its output, the worker must not follow it.
      if (claim.adopted) throw new Error(`the run cannot be taken over: ${secrets.reason}`);
      return { ok: false, outcome: { kind: 'start_failed', reason: secrets.reason } };
    }
    const { redactor } = secrets.secrets;
    if (redactor) {
      sink.redact(redactor);
      this.mask = (text) => redactor.redact(text);
    }
    if (claim.adopted) {
      sink.system(`[wharf] worker ${claim.workerId} took over this attempt; its run was still going`);
      const state = await o.backend.inspect(runId);
      if (!state) return { ok: false, outcome: { kind: 'lost', reason: 'worker lost, and its run is gone' } };
      o.watcher.seen(runId, state);
      return { ok: true };
    }
    let plan = claim.plan;
    if (plan.build) {
      if (!o.images) return { ok: false, outcome: { kind: 'start_failed', reason: 'this worker has no image builder configured (wharf serve --builder)' } };
      try {
        const { image } = await o.images.resolve(plan.build, (line) => sink.system(line), this.aborter.signal);
        sink.system(`[build] the task runs ${image}`);
        plan = { ...plan, image };
      } catch (e) {
        const cause = this.stopCause;
        if (cause?.kind === 'lease_lost') throw e;
        if (cause) return { ok: false, outcome: this.outcomeOf({ kind: 'error', reason: 'stopped while building' }) };
        return { ok: false, outcome: { kind: 'start_failed', reason: `building the image: ${formatError(e)}` } };
      }
    }
    await this.tally('start', o.backend.start(this.startRequest(plan, secrets.secrets.run)));
    return { ok: true };
  }

  private tally(op: BackendOp, p: Promise<void>): Promise<void> {
    return tally(this.o.metrics, this.claim.backend, op, p);
  }

  private startRequest(plan: TaskPlan, secrets: RunSecrets | undefined): StartRequest {
    const { claim, o } = this;
    const req: StartRequest = {
      runId: claim.attemptId,
      labels: {
        [LABELS.instance]: o.store.instanceId,
        [LABELS.job]: claim.jobId,
        [LABELS.task]: claim.task,
        [LABELS.attempt]: String(claim.attempt),
        [LABELS.attemptId]: claim.attemptId,
      },
      plan,
      env: { ...plan.env, WHARF_JOB_ID: claim.jobId, WHARF_TASK: claim.task, WHARF_ATTEMPT: String(claim.attempt) },
    };
    if (secrets) req.secrets = secrets;
    return req;
  }

  private async pumpLogs(sink: LogSink, runId: string): Promise<void> {
    const after = this.claim.adopted?.logCursor ?? undefined;
    for await (const chunk of this.o.backend.logs(runId, { follow: true, ...(after ? { after } : {}) })) await sink.write(chunk);
  }

  private outcomeOf(exit: RunExit): AttemptOutcome {
    const cause = this.stopCause;
    if (exit.kind === 'exited' && exit.code === 0) return { kind: 'succeeded' };
    if (cause?.kind === 'timeout') return { kind: 'timed_out', afterMs: cause.afterMs };
    if (cause?.kind === 'cancel') return { kind: 'canceled', reason: cause.reason };
    return exit.kind === 'exited' ? { kind: 'exited', code: exit.code } : exit;
  }

  private stop(cause: StopCause): void {
    if (this.stopCause && cause.kind !== 'lease_lost') return;
    this.stopCause = cause;
    this.aborter.abort();
    void this.stopRun(cause.kind === 'lease_lost' ? 0 : this.o.graceMs);
  }

  private stopRun(graceMs: number): Promise<void> {
    return this.tally('stop', this.o.backend.stop(this.claim.attemptId, graceMs))
      .catch((e: unknown) => this.report(`stopping ${this.claim.attemptId}: ${formatError(e)}`));
  }

  private report(message: string): void {
    this.o.log.warn(this.mask(message));
  }

  private heartbeat(): void {
    const tick = async (): Promise<void> => {
      let r;
      try {
        r = await this.o.store.renewLease(this.claim, this.o.leaseMs);
      } catch (e) {
        // The store is unreachable: keep running; the lease decides who owns the attempt.
        this.report(`renewing the lease of ${this.claim.attemptId}: ${formatError(e)}`);
        return;
      }
      if (!r.ok) this.stop({ kind: 'lease_lost' });
      else if (r.value.stopRequested) this.requestStop(r.value.stopRequested);
    };
    this.timers.push(setInterval(() => void tick(), this.o.heartbeatMs));
  }

  private async abandon(runId: string): Promise<void> {
    this.o.metrics.leaseLost();
    this.o.log.warn('the lease was lost: stopping the run, recording nothing more (another worker may own the attempt)');
    await this.stopRun(0);
    await this.tally('remove', this.o.backend.remove(runId)).catch((e: unknown) => this.report(`removing ${runId}: ${formatError(e)}`));
  }
}

/** The attempt ended before its run could start (a failed build, a run gone while nobody watched). */
class NotStarted extends Error {
  constructor(readonly outcome: AttemptOutcome) {
    super(describeOutcome(outcome));
  }
}
