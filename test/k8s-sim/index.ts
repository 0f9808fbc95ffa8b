// The Kubernetes API simulator's API server: startSimulator() serves the wire protocol of the
// resources Wharf uses on 127.0.0.1 and hands pods to a kubelet through the PodHost seam.
import type { AddressInfo } from 'node:net';
import { Cluster, type NamespaceSpec, type SimPodHost } from './cluster.js';
import { Counts } from './counts.js';
import type { KubeVersion } from './discovery.js';
import { Faults } from './faults.js';
import { kubeConfigOptions, kubeConfigYaml, type KubeConfigOptions } from './kubeconfig.js';
import { Authorizer, type RbacRules } from './rbac.js';
import { createApiServer } from './server.js';
import { servingCert } from './tls.js';
import type { Kubelet, Pod, PodHost, Secret } from './types.js';
import { WatchHub } from './watch.js';

export type { RbacRule, RbacRules } from './rbac.js';
export type { FailRule } from './faults.js';
export type { NamespaceSpec, SimPodHost } from './cluster.js';
export type { KubeConfigOptions } from './kubeconfig.js';
export { Counts } from './counts.js';
export { Faults } from './faults.js';

export interface SimulatorOptions {
  /** Makes the kubelet that runs admitted pods; none by default (pods stay Pending, unscheduled). */
  kubelet?: (host: PodHost) => Kubelet;
  /** The fixed set of namespaces (default ["default"]); labels e.g. pod-security.kubernetes.io/enforce. */
  namespaces?: (string | NamespaceSpec)[];
  /** When set, every request must carry `Authorization: Bearer <token>` (else 401). */
  token?: string;
  /** What the caller may do (default: everything). */
  rbac?: RbacRules;
  /** Which server release to imitate where they differ on the wire (default 1.34). */
  version?: KubeVersion;
  /** The authenticated user named in 403 messages (default system:serviceaccount:<first namespace>:wharf). */
  user?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** How often a watch that asked for bookmarks gets one (default 60 000 ms, as the cacher). */
  bookmarkIntervalMs?: number;
  /** Serve HTTPS with a self-signed certificate the kubeconfig carries (default true); false: plain HTTP. */
  tls?: boolean;
  /** Changes kept per resource for watches resuming from an RV (default 1000). */
  historyLimit?: number;
  /** RuntimeClasses that exist (default none): a pod naming another is refused, as the RuntimeClass admission plugin does. */
  runtimeClasses?: string[];
}

export interface Simulator {
  /** https://127.0.0.1:<port> (http:// with tls: false) */
  readonly url: string;
  kubeConfigYaml(): string;
  /** For client-node's `KubeConfig.loadFromOptions`. */
  kubeConfigOptions(): KubeConfigOptions;
  readonly faults: Faults;
  readonly counts: Counts;
  readonly kubelet: Kubelet | undefined;
  /** The seam the kubelet reports through (tests may drive it directly). */
  readonly host: SimPodHost;
  /** The serving certificate (PEM), also the CA a client must trust; undefined with tls: false. */
  readonly ca: string | undefined;
  pods(namespace: string): Pod[];
  secrets(namespace: string): Secret[];
  stop(): Promise<void>;
}

export async function startSimulator(opts: SimulatorOptions = {}): Promise<Simulator> {
  const namespaces = (opts.namespaces ?? ['default']).map((n) => (typeof n === 'string' ? { name: n } : n));
  const version = opts.version ?? '1.34';
  const cluster = new Cluster(version, namespaces, opts.historyLimit ?? 1000, opts.runtimeClasses ?? []);
  const hub = new WatchHub();
  const counts = new Counts();
  const authz = new Authorizer(opts.rbac, opts.user ?? `system:serviceaccount:${namespaces[0]?.name ?? 'default'}:wharf`);
  const config = { version, bookmarkIntervalMs: opts.bookmarkIntervalMs ?? 60_000, serverAddress: '' };
  let drop = (): void => {};
  const faults = new Faults({
    hub,
    authz,
    expireHistory: () => { cluster.pods.expire(); cluster.secrets.expire(); cluster.namespaces.expire(); },
    deletePod: (ns, name) => { if (cluster.pods.get(ns, name)) cluster.deletePod(ns, name, 0, {}, true); },
    dropConnections: () => { hub.each((w) => w.drop()); drop(); },
  });
  const cert = opts.tls === false ? undefined : await servingCert();
  const api = createApiServer({ cluster, hub, counts, authz, faults, config, token: opts.token }, cert);
  drop = api.dropConnections;
  await new Promise<void>((resolve, reject) => {
    api.server.once('error', reject);
    api.server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (api.server.address() as AddressInfo).port;
  config.serverAddress = `127.0.0.1:${port}`;
  const url = `${cert ? 'https' : 'http'}://127.0.0.1:${port}`;
  cluster.kubelet = opts.kubelet?.(cluster.host);
  const options = (): KubeConfigOptions => kubeConfigOptions(url, cert?.cert, opts.token, namespaces[0]?.name);
  let stopped: Promise<void> | undefined;
  return {
    url,
    ca: cert?.cert,
    kubeConfigOptions: options,
    kubeConfigYaml: () => kubeConfigYaml(options()),
    faults,
    counts,
    get kubelet() { return cluster.kubelet; },
    host: cluster.host,
    pods: (ns) => cluster.pods.list(ns),
    secrets: (ns) => cluster.secrets.list(ns),
    stop: () => {
      stopped ??= (async () => {
        hub.each((w) => w.end());
        await cluster.kubelet?.close();
        const closed = new Promise<void>((resolve) => api.server.close(() => resolve()));
        api.dropConnections();
        await closed;
      })();
      return stopped;
    },
  };
}
