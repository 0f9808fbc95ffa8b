// The cluster's state: the stores, the fixed namespaces, the kubelet, and the pod lifecycle the
// registry implements (graceful deletion as pod/strategy.go CheckGracefulDelete + rest.BeforeDelete
// + the generic store do it) plus the PodHost the kubelet reports through.
import type { IObjectMeta } from '@kubernetes-models/apimachinery/apis/meta/v1/ObjectMeta';
import type { KubeVersion } from './discovery.js';
import type { PodSecurityLevel } from './pod-security.js';
import { StatusError, conflict, notFound } from './status.js';
import { ResourceStore, Revision } from './store.js';
import type { Kubelet, Pod, PodHost, PodStatus, Secret } from './types.js';
import { rfc3339 } from './wire.js';

export interface Namespace {
  apiVersion?: string;
  kind?: string;
  metadata?: IObjectMeta;
  spec?: { finalizers?: string[] };
  status?: { phase?: string };
}

export interface NamespaceSpec {
  name: string;
  labels?: Record<string, string>;
}

/** PodHost plus the scheduler's binding (not in the seam yet: see README). */
export interface SimPodHost extends PodHost {
  /** The Binding subresource: sets spec.nodeName and PodScheduled=True in one write. */
  bind(namespace: string, name: string, nodeName: string): void;
}

export interface Preconditions { uid?: string; resourceVersion?: string }

/** Default node for a pod a kubelet reports scheduled without binding it (see SimPodHost.bind). */
export const FALLBACK_NODE = 'sim-node-1';

export class Cluster {
  readonly rev = new Revision();
  readonly pods: ResourceStore<Pod>;
  readonly secrets: ResourceStore<Secret>;
  readonly namespaces: ResourceStore<Namespace>;
  kubelet: Kubelet | undefined;
  readonly host: SimPodHost;

  constructor(readonly version: KubeVersion, namespaces: NamespaceSpec[], historyLimit: number, readonly runtimeClasses: readonly string[] = []) {
    this.pods = new ResourceStore<Pod>('pods', 'Pod', this.rev, historyLimit);
    this.secrets = new ResourceStore<Secret>('secrets', 'Secret', this.rev, historyLimit);
    this.namespaces = new ResourceStore<Namespace>('namespaces', 'Namespace', this.rev, historyLimit);
    for (const ns of namespaces) {
      this.namespaces.create({
        kind: 'Namespace', apiVersion: 'v1',
        metadata: { name: ns.name, labels: { 'kubernetes.io/metadata.name': ns.name, ...ns.labels } },
        spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' },
      });
    }
    this.host = {
      getPod: (ns, name) => this.pods.get(ns, name),
      setStatus: (ns, name, status) => this.setStatus(ns, name, status),
      remove: (ns, name) => { if (this.pods.get(ns, name)) this.deletePod(ns, name, 0, {}, false); },
      getSecret: (ns, name) => this.secrets.get(ns, name),
      bind: (ns, name, node) => this.bind(ns, name, node),
    };
  }

  podSecurityLevel(namespace: string): PodSecurityLevel {
    const level = this.namespaces.get(undefined, namespace)?.metadata?.labels?.['pod-security.kubernetes.io/enforce'];
    return level === 'restricted' || level === 'baseline' ? level : 'privileged';
  }

  private bind(ns: string, name: string, node: string): void {
    this.pods.update(ns, name, (p) => {
      p.spec = { containers: [], ...p.spec, nodeName: node };
      const conds = (p.status?.conditions ?? []).filter((c) => c.type !== 'PodScheduled');
      conds.push({ type: 'PodScheduled', status: 'True', lastProbeTime: null as unknown as undefined, lastTransitionTime: rfc3339() });
      p.status = { ...p.status, conditions: conds };
      return p;
    });
  }

  private setStatus(ns: string, name: string, status: PodStatus): void {
    this.pods.update(ns, name, (p) => {
      const scheduled = status.conditions?.some((c) => c.type === 'PodScheduled' && c.status === 'True');
      if (scheduled && !p.spec?.nodeName) p.spec = { containers: [], ...p.spec, nodeName: FALLBACK_NODE };
      p.status = status;
      return p;
    });
  }

  /**
   * DELETE of a pod. Returns what the API answers with (200 + the pod). A grace period of 0 (asked
   * for, or forced because the pod is unscheduled or finished) removes it at once — one MODIFIED
   * carrying deletionTimestamp, then DELETED; otherwise the pod is marked and the kubelet
   * terminates it, ending with host.remove() (the kubelet's own grace-0 delete).
   */
  deletePod(ns: string, name: string, requested: number | undefined, pre: Preconditions, tellKubelet: boolean): Pod {
    const cur = this.pods.get(ns, name);
    if (!cur) throw new StatusError(notFound('pods', name));
    const meta = cur.metadata ?? {};
    if (pre.uid !== undefined && pre.uid !== meta.uid) {
      throw new StatusError(conflict('pods', name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${meta.uid ?? ''}`));
    }
    if (pre.resourceVersion !== undefined && pre.resourceVersion !== meta.resourceVersion) {
      throw new StatusError(conflict('pods', name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${meta.resourceVersion ?? ''}`));
    }
    let grace: number;
    let mark: (p: Pod) => Pod;
    if (meta.deletionTimestamp) {
      // already terminating: only a shorter grace period changes anything
      const old = meta.deletionGracePeriodSeconds ?? 0;
      if (requested === undefined || requested >= old) return cur;
      grace = Math.max(requested, 0);
      const start = Date.parse(meta.deletionTimestamp) - old * 1000;
      mark = (p) => this.marked(p, new Date(start + grace * 1000), grace, false);
    } else {
      grace = requested ?? cur.spec?.terminationGracePeriodSeconds ?? 0;
      const phase = cur.status?.phase;
      if (!cur.spec?.nodeName || phase === 'Succeeded' || phase === 'Failed') grace = 0;
      if (grace < 0) grace = 1;
      mark = (p) => this.marked(p, new Date(Date.now() + grace * 1000), grace, true);
    }
    const updated = this.pods.update(ns, name, mark) ?? cur;
    if (grace === 0) this.pods.remove(ns, name);
    if (tellKubelet) this.kubelet?.terminate(ns, name, grace);
    return updated;
  }

  private marked(p: Pod, at: Date, grace: number, bumpGeneration: boolean): Pod {
    const meta: IObjectMeta = { ...p.metadata, deletionTimestamp: rfc3339(at), deletionGracePeriodSeconds: grace };
    if (bumpGeneration && meta.generation !== undefined && meta.generation > 0) meta.generation += 1;
    p.metadata = meta;
    return p;
  }
}
