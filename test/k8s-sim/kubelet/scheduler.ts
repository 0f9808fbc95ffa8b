// A small default-profile scheduler: NodeAffinity (nodeSelector) then NodeResourcesFit filters,
// least-allocated scoring, and the FitError text the real scheduler writes into the pod's
// PodScheduled=False condition (with the preemption post-filter's verdict appended).
import type { Pod } from '../types.js';
import { parseQuantity } from './quantity.js';
import { podRequests, type Requests } from './resources.js';

export interface NodeSpec {
  name: string;
  /** Besides the well-known kubernetes.io/hostname, kubernetes.io/os and kubernetes.io/arch. */
  labels?: Record<string, string>;
  /** Defaults: cpu 2, memory 4Gi, pods 110. */
  allocatable?: { cpu?: string | number; memory?: string | number; pods?: number };
}

interface Node {
  name: string;
  labels: Record<string, string>;
  cpu: number;
  memory: number;
  pods: number;
  /** Pods bound here and not yet ended, by key, with what they asked for. */
  bound: Map<string, Requests>;
}

export type ScheduleResult = { node: string } | { unschedulable: string };

const SELECTOR_MISMATCH = "node(s) didn't match Pod's node affinity/selector";
const NOT_HELPFUL = 'Preemption is not helpful for scheduling';
const NO_VICTIMS = 'No preemption victims found for incoming pod';

export function defaultNodes(): NodeSpec[] {
  return [1, 2, 3].map((i) => ({ name: `sim-node-${i}` }));
}

export class Scheduler {
  private readonly nodes: Node[];

  constructor(specs: NodeSpec[]) {
    this.nodes = specs.map((s) => ({
      name: s.name,
      labels: { 'kubernetes.io/arch': 'amd64', 'kubernetes.io/hostname': s.name, 'kubernetes.io/os': 'linux', ...s.labels },
      cpu: parseQuantity(s.allocatable?.cpu ?? 2),
      memory: parseQuantity(s.allocatable?.memory ?? '4Gi'),
      pods: s.allocatable?.pods ?? 110,
      bound: new Map(),
    }));
  }

  has(node: string): boolean {
    return this.nodes.some((n) => n.name === node);
  }

  /** Picks a node and reserves the pod's requests on it, or says why no node fits. */
  schedule(key: string, pod: Pod): ScheduleResult {
    const req = podRequests(pod);
    const selector = pod.spec?.nodeSelector ?? {};
    const reasons = new Map<string, string[]>();
    const fits: Node[] = [];
    for (const n of this.nodes) {
      if (!Object.entries(selector).every(([k, v]) => n.labels[k] === v)) {
        reasons.set(n.name, [SELECTOR_MISMATCH]);
        continue;
      }
      const used = this.used(n);
      const r: string[] = [];
      if (used.pods + 1 > n.pods) r.push('Too many pods');
      if (req.cpu > 0 && used.cpu + req.cpu > n.cpu + 1e-9) r.push('Insufficient cpu');
      if (req.memory > 0 && used.memory + req.memory > n.memory) r.push('Insufficient memory');
      if (r.length > 0) reasons.set(n.name, r);
      else fits.push(n);
    }
    const best = fits.sort((a, b) => this.score(b, req) - this.score(a, req))[0];
    if (best) {
      best.bound.set(key, req);
      return { node: best.name };
    }
    return { unschedulable: this.fitError(reasons) };
  }

  /** Binds without filtering: the pod named its node itself (spec.nodeName). */
  assign(key: string, pod: Pod, node: string): void {
    this.nodes.find((n) => n.name === node)?.bound.set(key, podRequests(pod));
  }

  /** The pod ended or is gone: its requests no longer count. */
  release(key: string): boolean {
    let freed = false;
    for (const n of this.nodes) freed = n.bound.delete(key) || freed;
    return freed;
  }

  private used(n: Node): { cpu: number; memory: number; pods: number } {
    let cpu = 0;
    let memory = 0;
    for (const r of n.bound.values()) {
      cpu += r.cpu;
      memory += r.memory;
    }
    return { cpu, memory, pods: n.bound.size };
  }

  /** LeastAllocated: the share left free after placing the pod, cpu and memory averaged. */
  private score(n: Node, req: Requests): number {
    const u = this.used(n);
    return ((n.cpu - u.cpu - req.cpu) / n.cpu + (n.memory - u.memory - req.memory) / n.memory) / 2;
  }

  /** framework.FitError.Error(), then the preemption PostFilter's own FitError. */
  private fitError(reasons: Map<string, string[]>): string {
    const total = this.nodes.length;
    const filter = histogram([...reasons.values()].flat());
    const preemption = histogram([...reasons.values()].map((r) => (r.includes(SELECTOR_MISMATCH) ? NOT_HELPFUL : NO_VICTIMS)));
    return `0/${total} nodes are available: ${filter}. preemption: 0/${total} nodes are available: ${preemption}.`;
  }
}

/** "2 Insufficient cpu, 3 Insufficient memory": counts per reason, sorted as strings. */
function histogram(reasons: string[]): string {
  const counts = new Map<string, number>();
  for (const r of reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
  return [...counts].map(([r, n]) => `${n} ${r}`).sort().join(', ');
}
