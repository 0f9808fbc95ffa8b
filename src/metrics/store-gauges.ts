// Gauges read from the store at scrape time: they describe the whole installation (every
// process sharing the store reports the same values), not this process.
import { Gauge, type Registry } from 'prom-client';
import type { BackendName } from '../spec/schema.js';
import type { QueueStats, Store } from '../store/types.js';

export interface StoreGaugeOptions {
  store: Store;
  /** Backends reported even when idle, so their series never vanish. */
  backends: readonly BackendName[];
  now: () => number;
}

export function registerStoreGauges(registry: Registry, o: StoreGaugeOptions): void {
  // One store read per scrape: the registry asks every gauge at once, so they share the read in
  // flight.
  let pending: Promise<{ at: number; stats: QueueStats }> | undefined;
  const read = (): Promise<{ at: number; stats: QueueStats }> => {
    if (pending) return pending;
    const at = o.now();
    pending = o.store.queueStats(at).then((stats) => ({ at, stats })).finally(() => { pending = undefined; });
    return pending;
  };
  const backendsOf = (s: QueueStats): BackendName[] =>
    [...new Set([...o.backends, ...(Object.keys(s.backends) as BackendName[])])];

  type Fill<L extends string> = (g: Gauge<L>, at: number, s: QueueStats) => void;
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[], fill: Fill<L>): void => {
    new Gauge<L>({
      name, help, labelNames, registers: [registry],
      async collect() {
        const { at, stats } = await read();
        this.reset();
        fill(this, at, stats);
      },
    });
  };

  gauge('wharf_jobs', 'Jobs in the store, by state.', ['state'], (g, _at, s) => {
    for (const [state, n] of Object.entries(s.jobs)) g.set({ state }, n);
  });
  gauge('wharf_tasks', 'Tasks in the store, by state.', ['state'], (g, _at, s) => {
    for (const [state, n] of Object.entries(s.tasks)) g.set({ state }, n);
  });
  gauge('wharf_queue_depth',
    'Queued attempts by backend: claimable now (state="claimable") or waiting for a retry\'s backoff (state="backoff").',
    ['backend', 'state'], (g, _at, s) => {
      for (const backend of backendsOf(s)) {
        g.set({ backend, state: 'claimable' }, s.backends[backend]?.claimable ?? 0);
        g.set({ backend, state: 'backoff' }, s.backends[backend]?.backoff ?? 0);
      }
    });
  gauge('wharf_queue_oldest_seconds',
    'Seconds the oldest claimable queued attempt has waited since it became claimable, by backend (0 when none).',
    ['backend'], (g, at, s) => {
      for (const backend of backendsOf(s)) {
        const t = s.backends[backend]?.oldestClaimableAt ?? null;
        g.set({ backend }, t === null ? 0 : Math.max(0, at - t) / 1000);
      }
    });
  gauge('wharf_attempts_running', 'Attempts running on any worker, by backend.', ['backend'], (g, _at, s) => {
    for (const backend of backendsOf(s)) g.set({ backend }, s.backends[backend]?.running ?? 0);
  });
}
