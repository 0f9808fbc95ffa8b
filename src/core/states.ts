// States and outcomes shared by the whole system. Pure types and tiny helpers.

export const JOB_STATES = ['queued', 'running', 'succeeded', 'failed', 'canceled'] as const;
export type JobState = (typeof JOB_STATES)[number];
export type JobEndState = Extract<JobState, 'succeeded' | 'failed' | 'canceled'>;

export const TASK_STATES = [
  'pending', 'ready', 'running', 'retrying', 'succeeded', 'failed', 'upstream_failed', 'canceled',
] as const;
export type TaskState = (typeof TASK_STATES)[number];

export const ATTEMPT_STATES = ['queued', 'running', 'ended'] as const;
export type AttemptState = (typeof ATTEMPT_STATES)[number];

/** How an attempt ended. Exit codes stay numbers end to end; "could not start" is never a success. */
export type AttemptOutcome =
  | { kind: 'succeeded' }
  | { kind: 'exited'; code: number }
  | { kind: 'signaled'; signal: number; signalName: string }
  | { kind: 'oom_killed'; memoryLimitBytes?: number }
  | { kind: 'start_failed'; reason: string }
  | { kind: 'timed_out'; afterMs: number }
  | { kind: 'canceled'; reason: string }
  | { kind: 'lost'; reason: string }
  | { kind: 'error'; reason: string };

export type OutcomeKind = AttemptOutcome['kind'];

export function isJobEnded(s: JobState): s is JobEndState {
  return s === 'succeeded' || s === 'failed' || s === 'canceled';
}

export function isTaskTerminal(s: TaskState): boolean {
  return s === 'succeeded' || s === 'failed' || s === 'upstream_failed' || s === 'canceled';
}

/**
 * The exit status a shell would show for an outcome: the code itself, 128+N for signal N,
 * 137 for an OOM kill (SIGKILL), 124 for a timeout (as timeout(1)), 125 when Wharf could not
 * run it, 130 when canceled.
 */
export function exitStatusOf(o: AttemptOutcome): number {
  switch (o.kind) {
    case 'succeeded': return 0;
    case 'exited': return o.code;
    case 'signaled': return 128 + o.signal;
    case 'oom_killed': return 137;
    case 'timed_out': return 124;
    case 'canceled': return 130;
    case 'start_failed':
    case 'lost':
    case 'error': return 125;
  }
}

/** One line a person can read: "exited 3", "killed by SIGKILL (137)", "command not found: foo". */
export function describeOutcome(o: AttemptOutcome): string {
  switch (o.kind) {
    case 'succeeded': return 'succeeded';
    case 'exited': return `exited ${o.code}`;
    case 'signaled': return `killed by ${o.signalName} (${128 + o.signal})`;
    case 'oom_killed': return o.memoryLimitBytes === undefined
      ? 'out of memory: killed (137)'
      : `out of memory: killed at the ${formatBytes(o.memoryLimitBytes)} memory limit (137)`;
    case 'timed_out': return `timed out after ${formatMs(o.afterMs)}`;
    case 'canceled': return `canceled: ${o.reason}`;
    case 'start_failed': return `could not start: ${o.reason}`;
    case 'lost': return o.reason;
    case 'error': return `error: ${o.reason}`;
  }
}

export function formatMs(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1_000 === 0) return `${ms / 1_000}s`;
  return `${ms}ms`;
}

/** 16777216 → "16Mi"; sizes that are no whole binary unit stay in bytes. */
export function formatBytes(n: number): string {
  for (const [unit, f] of [['Ti', 1024 ** 4], ['Gi', 1024 ** 3], ['Mi', 1024 ** 2], ['Ki', 1024]] as const) {
    if (n >= f && n % f === 0) return `${n / f}${unit}`;
  }
  return `${n} bytes`;
}
