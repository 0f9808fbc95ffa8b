// Prometheus metrics of one Wharf process: its own registry (never prom-client's global one, so
// several runtimes can live in one process, as in tests), the store's gauges, the worker's
// counters and Node's process metrics. Loaded only by processes that serve /metrics.
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { BackendName } from '../spec/schema.js';
import type { Store } from '../store/types.js';
import type { WorkerMetrics } from '../worker/metrics.js';
import { registerStoreGauges } from './store-gauges.js';
import { registerWorkerCounters } from './worker-counters.js';

export interface MetricsOptions {
  store: Store;
  /** This process's backends: their series are reported from the start, at zero. */
  backends: readonly BackendName[];
  now?: () => number;
}

export interface WharfMetrics {
  readonly registry: Registry;
  /** For the process's worker. */
  readonly worker: WorkerMetrics;
  /** The exposition text, for GET /metrics. */
  scrape(): Promise<{ contentType: string; body: string }>;
}

export function createMetrics(o: MetricsOptions): WharfMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  registerStoreGauges(registry, { store: o.store, backends: o.backends, now: o.now ?? Date.now });
  const worker = registerWorkerCounters(registry, o.backends);
  return {
    registry, worker,
    scrape: async () => ({ contentType: registry.contentType, body: await registry.metrics() }),
  };
}
