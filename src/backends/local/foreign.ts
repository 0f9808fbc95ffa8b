// Runs found in the state dir that this process did not start (an earlier worker's, or another
// backend instance's). Their pipes are gone, so only their pid is left to act on, and only after
// checking its start time: a pid alone may by now name someone else's process.
import type { RunState } from '../types.js';
import { isSameLiveProcess, killGroup, killGroupQuietly } from './proc.js';
import type { RunFile } from './run-file.js';

const POLL_MS = 100;

function alive(rf: RunFile): rf is RunFile & { pid: number; startTime: string } {
  return rf.pid !== null && rf.startTime !== null && isSameLiveProcess(rf.pid, rf.startTime);
}

export function foreignState(rf: RunFile): RunState {
  if (alive(rf)) return { phase: 'running', startedAt: rf.startedAt ?? 0 };
  // Its exit, if it had one, went to the process that held its pipes.
  return { phase: 'ended', exit: { kind: 'error', reason: 'worker lost' }, endedAt: Date.now() };
}

/**
 * Escalations in flight, by runId. Not our child, so there is no exit event to wait for: a poll
 * notices the leader is gone and stops, so nothing outlives the run by more than POLL_MS.
 * Processes of its group that outlive their leader are not chased (no start time of theirs is known).
 */
export class ForeignStops {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  stop(rf: RunFile, graceMs: number): void {
    if (!alive(rf) || this.timers.has(rf.runId)) return;
    const { runId, pid } = rf;
    killGroup(pid, 'SIGTERM');
    const deadline = Date.now() + Math.max(0, graceMs);
    const tick = (): void => {
      const still = isSameLiveProcess(pid, rf.startTime);
      if (!still || Date.now() >= deadline) {
        this.timers.delete(runId);
        if (still) killGroupQuietly(pid, 'SIGKILL'); // in a timer: nowhere to report to
      } else {
        this.timers.set(runId, setTimeout(tick, Math.min(POLL_MS, deadline - Date.now())));
      }
    };
    this.timers.set(runId, setTimeout(tick, Math.min(POLL_MS, Math.max(0, graceMs))));
  }

  kill(rf: RunFile): void {
    this.cancel(rf.runId);
    if (alive(rf)) killGroup(rf.pid, 'SIGKILL');
  }

  cancel(runId: string): void {
    clearTimeout(this.timers.get(runId));
    this.timers.delete(runId);
  }
}
