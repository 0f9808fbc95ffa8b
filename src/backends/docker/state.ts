// What GET /containers/{id}/json says about a run, as a RunState. Pure.
import type { RunExit, RunState } from '../types.js';

export interface ContainerInspect {
  Id: string;
  Name?: string;
  State?: {
    Status?: string;
    OOMKilled?: boolean;
    ExitCode?: number;
    Error?: string;
    StartedAt?: string;
    FinishedAt?: string;
  };
  Config?: { Labels?: Record<string, string> | null; User?: string };
  HostConfig?: { Memory?: number; LogConfig?: { Type?: string } };
}

/** Go's zero time, which the engine shows for "never". */
function timeOf(text: string | undefined, fallback: number): number {
  const t = text ? Date.parse(text) : NaN;
  return Number.isNaN(t) || t <= 0 ? fallback : t;
}

/**
 * The exit of a stopped container. A task killed by signal N shows as ExitCode 128+N, which is
 * also what `exit 128+N` gives: the engine does not tell them apart, so both are `exited`.
 */
export function exitOf(c: ContainerInspect): RunExit {
  const s = c.State ?? {};
  if (s.OOMKilled) {
    const limit = c.HostConfig?.Memory;
    return limit && limit > 0 ? { kind: 'oom_killed', memoryLimitBytes: limit } : { kind: 'oom_killed' };
  }
  return { kind: 'exited', code: s.ExitCode ?? -1 };
}

export type ContainerPhase =
  | { phase: 'created' }
  | { phase: 'start_failed'; reason: string }
  | { phase: 'running'; startedAt: number }
  | { phase: 'stopped'; endedAt: number };

export function phaseOf(c: ContainerInspect, now = Date.now()): ContainerPhase {
  const s = c.State ?? {};
  switch (s.Status) {
    case 'created':
      // A failed POST /start leaves the container "created", with the runtime's reason in Error.
      return s.Error ? { phase: 'start_failed', reason: s.Error } : { phase: 'created' };
    case 'running':
    case 'paused':
    case 'restarting':
      return { phase: 'running', startedAt: timeOf(s.StartedAt, now) };
    default: // exited, dead, removing
      return { phase: 'stopped', endedAt: timeOf(s.FinishedAt, now) };
  }
}

/** The state without the outputs copy (which only the backend can do). */
export function stateOf(c: ContainerInspect, now = Date.now()): RunState {
  const p = phaseOf(c, now);
  switch (p.phase) {
    case 'created':
      return { phase: 'starting' };
    case 'start_failed':
      return { phase: 'ended', exit: { kind: 'start_failed', reason: p.reason }, endedAt: now };
    case 'running':
      return { phase: 'running', startedAt: p.startedAt };
    case 'stopped':
      return { phase: 'ended', exit: exitOf(c), endedAt: p.endedAt };
  }
}
