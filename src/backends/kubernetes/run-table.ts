// What the backend knows of each run, and the one place where pod observations become run
// events. Transitions only go forward (starting → running → ended; ended is final), so a pod
// seen again — a relist after 410, a watch resumed, the create's own answer racing the watch —
// repeats nothing, and a run whose start was missed while the watch was down still reports
// `running` (with the container's start time) before its end.
import type { V1Pod } from '@kubernetes/client-node';
import type { RunEvent, RunExit, RunState } from '../types.js';
import type { RunProgress } from './logs.js';
import { observePod, timeMs, type PodObservation } from './pod-status.js';
import { RunListeners } from '../listeners.js';

export interface RunRecord {
  state?: RunState;
  /** The last `starting` message told. */
  message?: string;
  /** The runtime's last ErrImagePull message, told verbatim if the kubelet gives up. */
  pullError?: string;
  starting?: Promise<void>;
  /** Its pod was created or seen: while it is missing from the cache, the informer is behind. */
  seen?: boolean;
  /** Wharf asked the pod to go (stop or remove): its deletion is not someone else's. */
  stopRequested: boolean;
  removed: boolean;
  pendingTimer?: NodeJS.Timeout;
  retainTimer?: NodeJS.Timeout;
  /** Woken on every change of the run's pod (a followed log waits on it). */
  wake: (() => void)[];
}

export interface RunTableOptions {
  pendingTimeoutMs: number;
  /** The run's pod in the informer's cache. */
  podOf: (runId: string) => V1Pod | undefined;
}

const DELETED_BY_OTHER = 'pod deleted by someone else';

export class RunTable {
  private readonly runs = new Map<string, RunRecord>();
  private readonly listeners = new RunListeners();

  constructor(private readonly o: RunTableOptions) {}

  subscribe(listener: (e: RunEvent) => void): () => void {
    return this.listeners.add(listener);
  }

  get(runId: string): RunRecord | undefined {
    return this.runs.get(runId);
  }

  record(runId: string): RunRecord {
    let r = this.runs.get(runId);
    if (!r) this.runs.set(runId, (r = { stopRequested: false, removed: false, wake: [] }));
    return r;
  }

  forget(runId: string): void {
    const rec = this.runs.get(runId);
    if (!rec) return;
    clearTimeout(rec.pendingTimer);
    clearTimeout(rec.retainTimer);
    this.wakeUp(rec);
    this.runs.delete(runId);
  }

  wakeUp(rec: RunRecord): void {
    for (const w of rec.wake.splice(0)) w();
  }

  /** Resolves at the run's next change. */
  changed(runId: string): Promise<void> {
    const rec = this.record(runId);
    return new Promise((r) => rec.wake.push(r));
  }

  emit(runId: string, state: RunState): void {
    const rec = this.record(runId);
    const was = rec.state?.phase;
    if (was === 'ended' || (state.phase !== 'ended' && was === 'running')) return;
    if (state.phase === 'starting' && was === 'starting' && state.message === rec.message) return;
    if (state.phase === 'starting') rec.message = state.message;
    if (state.phase !== 'starting') clearTimeout(rec.pendingTimer);
    rec.state = state;
    this.wakeUp(rec);
    const e: RunEvent = { runId, state };
    this.listeners.emit(e);
  }

  end(runId: string, exit: RunExit, endedAt = Date.now()): void {
    this.emit(runId, { phase: 'ended', exit, endedAt });
  }

  failStart(runId: string, reason: string): void {
    this.end(runId, { kind: 'start_failed', reason });
  }

  /** A pod of the run as the informer (or an API answer) has it; `deleted`: its DELETED event. */
  observe(runId: string, pod: V1Pod, deleted: boolean): void {
    const rec = this.record(runId);
    rec.seen = true;
    this.wakeUp(rec);
    if (rec.state?.phase === 'ended') return;
    const obs = observePod(pod);
    const ours = rec.stopRequested || rec.removed;
    if (deleted && (obs.kind === 'pending' || obs.kind === 'running')) {
      if (!ours) return this.end(runId, { kind: 'error', reason: DELETED_BY_OTHER });
      if (rec.state?.phase === 'running') return this.end(runId, { kind: 'error', reason: 'stopped; the pod was deleted before its exit was seen' });
      return this.failStart(runId, 'stopped before it started');
    }
    const deletedByOther = !ours && pod.metadata?.deletionTimestamp !== undefined;
    this.apply(runId, rec, obs, pod, deletedByOther);
  }

  private apply(runId: string, rec: RunRecord, obs: PodObservation, pod: V1Pod, deletedByOther: boolean): void {
    switch (obs.kind) {
      case 'pending':
        if (obs.pullError !== undefined) rec.pullError = obs.pullError;
        this.armPendingTimer(runId, rec, pod);
        if (obs.message !== undefined) this.emit(runId, { phase: 'starting', message: obs.message });
        return;
      case 'start_failed':
        return this.failStart(runId, obs.imagePull ? rec.pullError ?? obs.reason : obs.reason);
      case 'running':
        return this.emit(runId, { phase: 'running', startedAt: obs.startedAt });
      case 'ended': {
        if (rec.state?.phase !== 'running' && obs.startedAt !== undefined) this.emit(runId, { phase: 'running', startedAt: obs.startedAt });
        // Killed by someone's delete; a task that had succeeded first keeps its success.
        const succeeded = obs.exit.kind === 'exited' && obs.exit.code === 0;
        const exit: RunExit = deletedByOther && !succeeded ? { kind: 'error', reason: DELETED_BY_OTHER } : obs.exit;
        return this.end(runId, exit, obs.endedAt);
      }
    }
  }

  /** A pod that stays pending past the pending timeout will not start: say why, as it was last said. */
  private armPendingTimer(runId: string, rec: RunRecord, pod: V1Pod): void {
    if (rec.pendingTimer) return;
    const created = timeMs(pod.metadata?.creationTimestamp) ?? Date.now();
    const due = Math.max(0, created + this.o.pendingTimeoutMs - Date.now());
    rec.pendingTimer = setTimeout(() => {
      rec.pendingTimer = undefined;
      if (this.runs.get(runId) !== rec || rec.state?.phase === 'ended') return;
      const now = this.o.podOf(runId);
      if (!now) return; // its DELETED event says what happened
      const obs = observePod(now);
      if (obs.kind !== 'pending') return this.apply(runId, rec, obs, now, false);
      const after = `${Math.round(this.o.pendingTimeoutMs / 1000)} s`;
      if (obs.unschedulable) return this.failStart(runId, obs.message ?? `unschedulable for ${after}`);
      if (rec.pullError !== undefined) return this.failStart(runId, rec.pullError);
      this.failStart(runId, `the pod was still pending after ${after}${obs.message ? `: ${obs.message}` : ''}`);
    }, due);
    rec.pendingTimer.unref();
  }

  /** Where a run is, for its log: from what was told, else from its pod. */
  progress(runId: string): RunProgress {
    const rec = this.runs.get(runId);
    const pod = this.o.podOf(runId);
    if (rec?.state?.phase === 'ended') return pod ? 'ended' : 'gone';
    // Known but not (yet) in the cache: the informer has not caught up with the create.
    if (!pod) return rec?.starting || rec?.seen ? 'pending' : 'gone';
    const obs = observePod(pod);
    if (obs.kind === 'pending') return 'pending';
    return obs.kind === 'running' ? 'started' : 'ended';
  }

  /** The run's state for a listing: what was told, else what its pod says (without telling it). */
  stateOf(runId: string, pod: V1Pod): RunState {
    const told = this.runs.get(runId)?.state;
    if (told?.phase === 'ended' || told?.phase === 'running') return told;
    const obs = observePod(pod);
    switch (obs.kind) {
      case 'pending': return obs.message !== undefined ? { phase: 'starting', message: obs.message } : { phase: 'starting' };
      case 'start_failed': return { phase: 'ended', exit: { kind: 'start_failed', reason: obs.reason }, endedAt: Date.now() };
      case 'running': return { phase: 'running', startedAt: obs.startedAt };
      case 'ended': return { phase: 'ended', exit: obs.exit, endedAt: obs.endedAt };
    }
  }

  all(): IterableIterator<[string, RunRecord]> {
    return this.runs.entries();
  }

  close(): void {
    this.listeners.clear();
    for (const rec of this.runs.values()) {
      clearTimeout(rec.pendingTimer);
      clearTimeout(rec.retainTimer);
      this.wakeUp(rec);
    }
  }
}
