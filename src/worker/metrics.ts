// What a worker reports for monitoring. An interface, so the worker stays free of any metrics
// library: src/metrics/ implements it with prom-client; the default does nothing.
import type { OutcomeKind } from '../core/states.js';
import type { BackendName } from '../spec/schema.js';

export type BackendOp = 'start' | 'stop' | 'remove';

export interface WorkerMetrics {
  claimed(backend: BackendName): void;
  /** An outcome this worker recorded, `seconds` after it claimed the attempt. */
  ended(backend: BackendName, outcome: OutcomeKind, seconds: number): void;
  /** A run this worker gave up because its lease passed (another worker may own the attempt). */
  leaseLost(): void;
  /** An attempt whose worker vanished, marked lost by this worker's sweep. */
  attemptLost(): void;
  /** Task output stored (after the log cap). */
  logBytes(stream: 'stdout' | 'stderr', bytes: number): void;
  /** A backend call that failed. */
  backendError(backend: BackendName, op: BackendOp): void;
}

export const NO_METRICS: WorkerMetrics = {
  claimed: () => undefined,
  ended: () => undefined,
  leaseLost: () => undefined,
  attemptLost: () => undefined,
  logBytes: () => undefined,
  backendError: () => undefined,
};

/** `p`, counting its failure as a backend error (and still failing). */
export function tally<T>(m: WorkerMetrics, backend: BackendName, op: BackendOp, p: Promise<T>): Promise<T> {
  return p.catch((e: unknown) => {
    m.backendError(backend, op);
    throw e;
  });
}
