// Assembles one Wharf process: the store, the backends, the service and a worker when asked.
// Both `wharf serve` and the CLI's in-process mode start here; clients and config are made
// here and passed down, nothing connects at import.
import { mkdirSync } from 'node:fs';
import { WharfService } from '../api/service.js';
import type { WharfMetrics } from '../metrics/index.js';
import { createLocalBackend } from '../backends/local/index.js';
import type { Backend } from '../backends/types.js';
import type { BackendName } from '../spec/schema.js';
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
}

export type RuntimeWorkerOptions = Omit<WorkerOptions, 'store' | 'backends'>;

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
    containers = await openContainers(o.home, store.instanceId, o.containers);
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
    store, defaultBackend: o.defaultBackend ?? 'local', backends: names, ...(o.policy ? { policy: o.policy } : {}),
    admin: { admin: store.admin, box: secretBox },
  }).as(o.actor ?? `local:${localUser()}`);
  // Loaded lazily: importing prom-client would add tens of ms to every `wharf run`.
  const metrics = o.metrics ? (await import('../metrics/index.js')).createMetrics({ store, backends: names }) : undefined;
  let worker: Worker | undefined;
  let closed = false;
  return {
    store, admin: store.admin, secretBox, service, metrics, notes: containers.notes,
    async startWorker(wo = {}) {
      if (worker) throw new Error('this process already runs a worker');
      // The key is loaded when a task first needs a secret: a worker without secrets needs no key.
      const secrets: SecretSource = { resolve: async (names) => storeSecrets(store.admin, await secretBox()).resolve(names) };
      worker = new Worker({
        ...wo, store, backends, secrets, metrics: wo.metrics ?? metrics?.worker, ...(containers.images ? { images: containers.images } : {}),
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
