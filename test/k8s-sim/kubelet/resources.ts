// What a pod asks of a node (the scheduler's view) and its QoS class (the kubelet's), from the
// containers' requests and limits. A request left out defaults to the limit, as the API server's
// defaulting does, so this gives the same answer whether or not the server defaulted the pod.
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { Pod } from '../types.js';
import { parseQuantity } from './quantity.js';

export interface Requests {
  /** Cores. */
  cpu: number;
  /** Bytes. */
  memory: number;
}

type Resource = 'cpu' | 'memory';

function quantity(c: IContainer, kind: 'requests' | 'limits', r: Resource): number | undefined {
  const q = c.resources?.[kind]?.[r];
  return q === undefined ? undefined : parseQuantity(q);
}

/** The container's request for r: its request, else its limit, else 0. */
export function containerRequest(c: IContainer, r: Resource): number {
  return quantity(c, 'requests', r) ?? quantity(c, 'limits', r) ?? 0;
}

export function containerLimit(c: IContainer, r: Resource): number | undefined {
  return quantity(c, 'limits', r);
}

/** The scheduler's pod request: the sum of its containers, or the largest init container if more (they run one at a time). */
export function podRequests(pod: Pod): Requests {
  const spec = pod.spec;
  const out: Requests = { cpu: 0, memory: 0 };
  for (const r of ['cpu', 'memory'] as const) {
    const sum = (spec?.containers ?? []).reduce((a, c) => a + containerRequest(c, r), 0);
    const init = Math.max(0, ...(spec?.initContainers ?? []).map((c) => containerRequest(c, r)));
    out[r] = Math.max(sum, init);
  }
  return out;
}

/** v1qos.GetPodQOS. */
export function qosClass(pod: Pod): 'BestEffort' | 'Burstable' | 'Guaranteed' {
  const all = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  const requests = new Map<Resource, number>();
  const limits = new Map<Resource, number>();
  let guaranteed = true;
  for (const c of all) {
    for (const r of ['cpu', 'memory'] as const) {
      const req = containerRequest(c, r);
      if (req > 0) requests.set(r, (requests.get(r) ?? 0) + req);
    }
    const found = new Set<Resource>();
    for (const r of ['cpu', 'memory'] as const) {
      const lim = containerLimit(c, r) ?? 0;
      if (lim > 0) {
        limits.set(r, (limits.get(r) ?? 0) + lim);
        found.add(r);
      }
    }
    if (found.size < 2) guaranteed = false;
  }
  if (requests.size === 0 && limits.size === 0) return 'BestEffort';
  if (guaranteed) {
    for (const [r, v] of requests) if (limits.get(r) !== v) guaranteed = false;
  }
  return guaranteed && requests.size === limits.size ? 'Guaranteed' : 'Burstable';
}
