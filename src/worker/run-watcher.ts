// One subscription per backend feeds every waiting attempt (informer style): events are routed
// to waiters by run id. A runner registers before it starts its run, so no event of its run can
// come first; events of runs nobody waits for (one being abandoned) are dropped.
import type { Backend, RunExit, RunState } from '../backends/types.js';

interface Waiter {
  onState: (s: RunState) => void;
  resolve: (end: { exit: RunExit; endedAt: number }) => void;
}

export class RunWatcher {
  private readonly waiters = new Map<string, Waiter>();
  private readonly unsubscribe: () => void;

  constructor(backend: Backend) {
    this.unsubscribe = backend.subscribe(({ runId, state }) => this.seen(runId, state));
  }

  /** A state learnt otherwise than by the subscription (inspecting a run this worker took over). */
  seen(runId: string, state: RunState): void {
    const w = this.waiters.get(runId);
    if (!w) return;
    w.onState(state);
    if (state.phase === 'ended') {
      this.waiters.delete(runId);
      w.resolve({ exit: state.exit, endedAt: state.endedAt });
    }
  }

  /** Call before starting the run; resolves when it ends. */
  wait(runId: string, onState: (s: RunState) => void): Promise<{ exit: RunExit; endedAt: number }> {
    return new Promise((resolve) => this.waiters.set(runId, { onState, resolve }));
  }

  forget(runId: string): void {
    this.waiters.delete(runId);
  }

  close(): void {
    this.unsubscribe();
    this.waiters.clear();
  }
}
