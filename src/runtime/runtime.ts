// Assembles one Wharf process: the store, the backends, the service and a worker when asked.
// Both `wharf serve` and the CLI's in-process mode start here; clients and config are made
// here and passed down, nothing connects at import.
import { mkdirSync } from 'node:fs';
import { WharfService } from '../api/service.js';
import type { WharfMetrics } from '../metrics/index.js';
import { createLocalBackend } from '../backends/local/index.js';
import type { Backend } from '../backends/types.js';
import { BACKENDS, type BackendName } from '../spec/schema.js';
import type { Log } from '../core/log.js';
import type { Policy } from '../spec/policy.js';
import { openStore } from '../store/open.js';
import type { Store } from '../store/types.js';
import { Worker, type WorkerOptions } from '../worker/worker.js';
import { userInfo } from 'node:os';
import { loadOrCreateKey, SecretBox, storeSecrets, type SecretSource } from '../secrets/index.js';
import type { AdminStore } from '../store/admin.js';
import { openContainers, type ContainerOptions } from './containers.js';

export interface RuntimeOptions {
  /** WHARF_HOME: the default database and the local backend's run directories live here. */
  home: string;
  /** A SQLite file (default `<home>/wharf.db`) or a postgres:// URL. */
  db?: string;
  defaultBackend?: BackendName;
  /** Keep Prometheus metrics (for `wharf serve`'s /metrics); off, prom-client is never loaded. */
  metrics?: boolean;
  /** The docker backend, the image builder and its registry. */
  containers?: ContainerOptions;
  /** What tasks may ask for; default non-privileged only. */
  policy?: Policy;
  /** Who the in-process service acts for in the audit log (default "local:<user>"). */
  actor?: string;
  /** The process's log (serve, worker: JSON lines); default: warnings as text on stderr. */
  log?: Log;
  /** How often workers beat in the registry; a worker is live within 3 of these (default 5 s). */
  heartbeatMs?: number;
  /** Accept tasks for every backend, not only this process's (an API server whose workers run elsewhere). */
  acceptAllBackends?: boolean;
}

export type RuntimeWorkerOptions = Omit<WorkerOptions, 'store' | 'backends' | 'registry'> & {
  /** Claim only for these of the process's backends (default: all of them). */
  backends?: readonly BackendName[];
};

/** A worker asked for a backend this process does not have (docker off, no cluster). */
export class MissingBackendError extends Error {
  override readonly name = 'MissingBackendError';
}

export interface Runtime {
  store: Store;
  /** Tokens, secrets, the audit log. */
  admin: AdminStore;
  /** The secret key, loaded (or made, 0600, in the home) on first use. */
  secretBox(): Promise<SecretBox>;
  service: WharfService;
  /** This runtime's metrics (their own registry), when asked for; its worker reports to them. */
  metrics: WharfMetrics | undefined;
  /** What was found at startup (docker engine, builder), one line each. */
  notes: string[];
  /** Starts the process's worker (at most one). */
  startWorker(o?: RuntimeWorkerOptions): Promise<Worker>;
  /** Drains the worker (if started) until `drainMs`, then closes everything. */
  close(drainMs?: number): Promise<void>;
}

export async function openRuntime(o: RuntimeOptions): Promise<Runtime> {
  mkdirSync(o.home, { recursive: true, mode: 0o700 });
  const store = await openStore({ home: o.home, ...(o.db !== undefined ? { db: o.db } : {}) });
  let containers;
  try {
    containers = await openContainers(o.home, store.instanceId, o.containers, o.log);
  } catch (e) {
    await store.close();
    throw e;
  }
  const backends: Backend[] = [createLocalBackend({ stateDir: o.home, instanceId: store.instanceId }), ...containers.backends];
  const names = backends.map((b) => b.name);
  let box: Promise<SecretBox> | undefined;
  const secretBox = (): Promise<SecretBox> => {
    box ??= loadOrCreateKey({ home: o.home, env: process.env }).then((key) => new SecretBox(key));
    box.catch(() => { box = undefined; }); // a key problem fixed by the operator is seen on the next try
    return box;
  };
  const service = new WharfService({
    store, defaultBackend: o.defaultBackend ?? 'local', backends: o.acceptAllBackends ? BACKENDS : names, ...(o.policy ? { policy: o.policy } : {}),
    admin: { admin: store.admin, box: secretBox }, workers: store.workers,
    ...(o.heartbeatMs !== undefined ? { heartbeatMs: o.heartbeatMs } : {}),
  }).as(o.actor ?? `local:${localUser()}`);
  // Loaded lazily: importing prom-client would add tens of ms to every `wharf run`.
  const metrics = o.metrics ? (await import('../metrics/index.js')).createMetrics({ store, backends: names }) : undefined;
  let worker: Worker | undefined;
  let closed = false;
  return {
    store, admin: store.admin, secretBox, service, metrics, notes: containers.notes,
    async startWorker({ backends: wanted, ...wo } = {}) {
      if (worker) throw new Error('this process already runs a worker');
      const missing = (wanted ?? []).filter((n) => !names.includes(n));
      if (missing.length > 0) {
        throw new MissingBackendError(`this process has no ${missing.join(', ')} backend (it has ${names.join(', ')}); ` +
          'check --docker / --docker-host or --kubernetes / --kubeconfig');
      }
      const mine = wanted ? backends.filter((b) => wanted.includes(b.name)) : backends;
      // The key is loaded when a task first needs a secret: a worker without secrets needs no key.
      const secrets: SecretSource = { resolve: async (names) => storeSecrets(store.admin, await secretBox()).resolve(names) };
      worker = new Worker({
        ...(o.log ? { log: o.log.child({ component: 'worker' }) } : {}),
        // The CLI's in-process worker runs one job and goes: it is no worker others can count on.
        ...(wo.onlyJob === undefined ? { registry: store.workers } : {}),
        ...(o.heartbeatMs !== undefined ? { presenceMs: o.heartbeatMs } : {}),
        ...wo, store, backends: mine, secrets, metrics: wo.metrics ?? metrics?.worker, ...(containers.images ? { images: containers.images } : {}),
      });
      await worker.start();
      return worker;
    },
    async close(drainMs = 0) {
      if (closed) return;
      closed = true;
      await worker?.drain(drainMs);
      for (const b of backends) if (b.name === 'local') await b.close();
      await containers.close();
      await store.close();
    },
  };
}

function localUser(): string {
  try {
    return userInfo().username;
  } catch {
    return String(process.getuid?.() ?? 'unknown');
  }
}
