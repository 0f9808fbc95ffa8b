// Counters and the duration histogram of this process's worker: the WorkerMetrics the worker
// reports to, kept in prom-client metrics.
import { Counter, Histogram, type Registry } from 'prom-client';
import type { OutcomeKind } from '../core/states.js';
import type { BackendName } from '../spec/schema.js';
import type { BackendOp, WorkerMetrics } from '../worker/metrics.js';

/** From 10 ms (a no-op process) to 1 h. */
export const DURATION_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 1800, 3600];

// A Record, so that a new outcome kind fails to compile until it is listed here.
const OUTCOMES = Object.keys({
  succeeded: 0, exited: 0, signaled: 0, oom_killed: 0, start_failed: 0, timed_out: 0, canceled: 0, lost: 0, error: 0,
} satisfies Record<OutcomeKind, 0>) as OutcomeKind[];
const OPS: readonly BackendOp[] = ['start', 'stop', 'remove'];

export function registerWorkerCounters(registry: Registry, backends: readonly BackendName[]): WorkerMetrics {
  const registers = [registry];
  const claims = new Counter({
    name: 'wharf_claims_total', help: 'Attempts claimed by this process\'s worker, by backend.', labelNames: ['backend'], registers,
  });
  const ended = new Counter({
    name: 'wharf_attempts_ended_total', help: 'Attempts whose outcome this process\'s worker recorded, by backend and outcome kind.',
    labelNames: ['backend', 'outcome'], registers,
  });
  const duration = new Histogram({
    name: 'wharf_attempt_duration_seconds',
    help: 'Seconds from claim to recorded outcome of the attempts this process\'s worker ended, by backend and outcome kind.',
    labelNames: ['backend', 'outcome'], buckets: DURATION_BUCKETS, registers,
  });
  const leasesLost = new Counter({
    name: 'wharf_leases_lost_total', help: 'Attempts this process\'s worker gave up because its lease on them passed.', registers,
  });
  const attemptsLost = new Counter({
    name: 'wharf_attempts_lost_total', help: 'Attempts of vanished workers that this process\'s sweep marked lost.', registers,
  });
  const logBytes = new Counter({
    name: 'wharf_log_bytes_total',
    help: 'Bytes of task output this process stored, by stream (output dropped by the log cap is not counted).',
    labelNames: ['stream'], registers,
  });
  const backendErrors = new Counter({
    name: 'wharf_backend_errors_total', help: 'Backend calls that failed in this process, by backend and operation.',
    labelNames: ['backend', 'op'], registers,
  });

  // Zeros up front: a counter that appears only on its first increment hides that increment
  // from rate().
  for (const backend of backends) {
    claims.inc({ backend }, 0);
    for (const outcome of OUTCOMES) ended.inc({ backend, outcome }, 0);
    for (const op of OPS) backendErrors.inc({ backend, op }, 0);
  }
  for (const stream of ['stdout', 'stderr']) logBytes.inc({ stream }, 0);

  return {
    claimed: (backend) => claims.inc({ backend }),
    ended: (backend, outcome, seconds) => {
      ended.inc({ backend, outcome });
      duration.observe({ backend, outcome }, seconds);
    },
    leaseLost: () => leasesLost.inc(),
    attemptLost: () => attemptsLost.inc(),
    logBytes: (stream, bytes) => logBytes.inc({ stream }, bytes),
    backendError: (backend, op) => backendErrors.inc({ backend, op }),
  };
}
