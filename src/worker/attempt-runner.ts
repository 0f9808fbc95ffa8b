// Drives one claimed attempt to its end: start the run, capture its logs, renew the lease,
// enforce the timeout, honour a stop request, record the outcome, remove the run.
// It always ends in exactly one of: the outcome recorded, or the lease found lost (then the
// run is stopped and nothing more is written, since another worker may own the attempt now).
import { LABELS, type Backend, type RunExit, type StartRequest } from '../backends/types.js';
import { formatError } from '../core/format-error.js';
import { describeOutcome, type AttemptOutcome } from '../core/states.js';
import type { Claim, Store } from '../store/types.js';
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
  /** Where problems that end no attempt are reported (a backend that failed to stop a run). */
  report: (message: string) => void;
  metrics: WorkerMetrics;
}

type StopCause = { kind: 'cancel'; reason: string } | { kind: 'timeout'; afterMs: number } | { kind: 'lease_lost' };

export class AttemptRunner {
  private stopCause: StopCause | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  private started: Promise<void> = Promise.resolve();
  private readonly claimedAt = performance.now();
  /** Settles when the attempt is over for this worker. */
  readonly done: Promise<void>;

  constructor(readonly claim: Claim, private readonly o: RunnerOptions) {
    // Never rejects: whatever went wrong is reported, and the lease decides what happens next.
    this.done = this.run().catch((e: unknown) => o.report(`attempt ${claim.attemptId}: ${formatError(e)}`));
  }

  /** Stops the run with the grace period; the attempt ends `canceled` unless it succeeds first. */
  requestStop(reason: string): void {
    this.stop({ kind: 'cancel', reason });
  }

  private async run(): Promise<void> {
    const { claim, o } = this;
    const runId = claim.attemptId;
    const sink = new LogSink({
      write: async (chunks) => {
        const r = await o.store.appendLogs(claim, chunks);
        if (r.ok) for (const c of chunks) if (c.stream !== 'system' && c.bytes > 0) o.metrics.logBytes(c.stream, c.bytes);
        return r;
      },
      capBytes: o.logCapBytes,
    });
    const ended = o.watcher.wait(runId, (s) => {
      if (s.phase !== 'running') return;
      this.started = o.store.markStarted(claim).then(
        (r) => { if (!r.ok) this.stop({ kind: 'lease_lost' }); },
        (e: unknown) => o.report(`recording the start of ${runId}: ${formatError(e)}`),
      );
    });
    this.heartbeat();
    if (claim.plan.timeoutMs !== undefined) {
      const afterMs = claim.plan.timeoutMs;
      this.timers.push(setTimeout(() => this.stop({ kind: 'timeout', afterMs }), afterMs));
    }
    let outcome: AttemptOutcome;
    try {
      await this.tally('start', o.backend.start(this.startRequest()));
      // Together: a log write refused (lease lost) must end the wait at once, not after the run.
      const [end] = await Promise.all([ended, this.pumpLogs(sink, runId)]);
      outcome = this.outcomeOf(end.exit);
      // Say in the log why it ended whenever the output alone does not show it.
      if (outcome.kind !== 'succeeded' && outcome.kind !== 'exited') sink.system(`[wharf] ${describeOutcome(outcome)}`);
      await sink.close();
    } catch (e) {
      if (this.stopCause?.kind === 'lease_lost' || e instanceof LeaseLostError) return this.abandon(runId);
      outcome = { kind: 'error', reason: formatError(e) };
      sink.system(`[wharf] ${outcome.reason}`);
      await sink.close().catch((err: unknown) => o.report(`storing the last logs of ${runId}: ${formatError(err)}`));
      await this.stopRun(0);
    } finally {
      for (const t of this.timers) clearTimeout(t);
      o.watcher.forget(runId);
    }
    await this.started;
    if (this.stopCause?.kind === 'lease_lost') return this.abandon(runId);
    const r = await o.store.finishAttempt(claim, outcome);
    if (!r.ok) return this.abandon(runId);
    o.metrics.ended(claim.backend, outcome.kind, (performance.now() - this.claimedAt) / 1000);
    await this.tally('remove', o.backend.remove(runId));
  }

  private tally(op: BackendOp, p: Promise<void>): Promise<void> {
    return tally(this.o.metrics, this.claim.backend, op, p);
  }

  private startRequest(): StartRequest {
    const { claim, o } = this;
    return {
      runId: claim.attemptId,
      labels: {
        [LABELS.instance]: o.store.instanceId,
        [LABELS.job]: claim.jobId,
        [LABELS.task]: claim.task,
        [LABELS.attempt]: String(claim.attempt),
        [LABELS.attemptId]: claim.attemptId,
      },
      plan: claim.plan,
      env: { ...claim.plan.env, WHARF_JOB_ID: claim.jobId, WHARF_TASK: claim.task, WHARF_ATTEMPT: String(claim.attempt) },
    };
  }

  private async pumpLogs(sink: LogSink, runId: string): Promise<void> {
    for await (const chunk of this.o.backend.logs(runId, { follow: true })) await sink.write(chunk);
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
    void this.stopRun(cause.kind === 'lease_lost' ? 0 : this.o.graceMs);
  }

  private stopRun(graceMs: number): Promise<void> {
    return this.tally('stop', this.o.backend.stop(this.claim.attemptId, graceMs))
      .catch((e: unknown) => this.o.report(`stopping ${this.claim.attemptId}: ${formatError(e)}`));
  }

  private heartbeat(): void {
    const tick = async (): Promise<void> => {
      let r;
      try {
        r = await this.o.store.renewLease(this.claim, this.o.leaseMs);
      } catch (e) {
        // The store is unreachable: keep running; the lease decides who owns the attempt.
        this.o.report(`renewing the lease of ${this.claim.attemptId}: ${formatError(e)}`);
        return;
      }
      if (!r.ok) this.stop({ kind: 'lease_lost' });
      else if (r.value.stopRequested) this.requestStop(r.value.stopRequested);
    };
    this.timers.push(setInterval(() => void tick(), this.o.heartbeatMs));
  }

  private async abandon(runId: string): Promise<void> {
    this.o.metrics.leaseLost();
    await this.stopRun(0);
    await this.tally('remove', this.o.backend.remove(runId)).catch((e: unknown) => this.o.report(`removing ${runId}: ${formatError(e)}`));
  }
}
