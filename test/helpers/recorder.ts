// Records a backend's run events, and awaits the ones a test expects (already seen or to come).
import type { Backend, RunEvent, RunExit } from '../../src/backends/types.js';

export class Recorder {
  readonly events: RunEvent[] = [];
  private waiters: { test: (e: RunEvent) => boolean; resolve: (e: RunEvent) => void }[] = [];

  constructor(backend: Pick<Backend, 'subscribe'>) {
    backend.subscribe((e) => {
      this.events.push(e);
      this.waiters = this.waiters.filter((w) => !(w.test(e) && (w.resolve(e), true)));
    });
  }

  of(runId: string): RunEvent[] {
    return this.events.filter((e) => e.runId === runId);
  }

  running(runId: string): Promise<RunEvent> {
    return this.next((e) => e.runId === runId && e.state.phase === 'running');
  }

  /** The run's exit, from its `ended` event. */
  async ended(runId: string): Promise<RunExit> {
    const e = await this.next((x) => x.runId === runId && x.state.phase === 'ended');
    if (e.state.phase !== 'ended') throw new Error('unreachable');
    return e.state.exit;
  }

  private next(test: (e: RunEvent) => boolean): Promise<RunEvent> {
    const seen = this.events.find(test);
    return seen ? Promise.resolve(seen) : new Promise<RunEvent>((resolve) => this.waiters.push({ test, resolve }));
  }
}
