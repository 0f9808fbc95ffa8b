// One subscription per backend feeds every waiting attempt (informer style): events are routed
// to waiters by run id, and an end that arrives before anyone waits is kept for them.
import type { Backend, RunExit, RunState } from '../backends/types.js';

interface Waiter {
  onState: (s: RunState) => void;
  resolve: (end: { exit: RunExit; endedAt: number }) => void;
}

export class RunWatcher {
  private readonly waiters = new Map<string, Waiter>();
  private readonly early = new Map<string, RunState[]>();
  private readonly unsubscribe: () => void;

  constructor(backend: Backend) {
    this.unsubscribe = backend.subscribe(({ runId, state }) => {
      const w = this.waiters.get(runId);
      if (!w) {
        // Keep only what a waiter registering later could need.
        const list = this.early.get(runId) ?? [];
        list.push(state);
        this.early.set(runId, list);
        return;
      }
      this.deliver(runId, w, state);
    });
  }

  /** Registers interest in a run before it starts; resolves when the run ends. */
  wait(runId: string, onState: (s: RunState) => void): Promise<{ exit: RunExit; endedAt: number }> {
    return new Promise((resolve) => {
      const w: Waiter = { onState, resolve };
      this.waiters.set(runId, w);
      const pending = this.early.get(runId);
      this.early.delete(runId);
      for (const s of pending ?? []) this.deliver(runId, w, s);
    });
  }

  /** Ends a wait from outside (the run's state was learned another way, e.g. inspect). */
  settle(runId: string, state: RunState): void {
    const w = this.waiters.get(runId);
    if (w) this.deliver(runId, w, state);
  }

  forget(runId: string): void {
    this.waiters.delete(runId);
    this.early.delete(runId);
  }

  close(): void {
    this.unsubscribe();
    this.waiters.clear();
    this.early.clear();
  }

  private deliver(runId: string, w: Waiter, state: RunState): void {
    w.onState(state);
    if (state.phase === 'ended') {
      this.waiters.delete(runId);
      w.resolve({ exit: state.exit, endedAt: state.endedAt });
    }
  }
}
