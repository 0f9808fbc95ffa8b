// What the API server fills in on a new pod before validation and storage: SetDefaults_Pod and
// friends, the admission plugins every cluster runs (ServiceAccount name, DefaultTolerationSeconds,
// Priority), and the initial status (Pending + QoS class).
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IToleration } from 'kubernetes-models/v1/Toleration';
import { qosClass } from './quantity.js';
import type { Pod } from './types.js';
import type { KubeVersion } from './discovery.js';

/** `Always` for `:latest` or no tag (and no digest), else `IfNotPresent`. */
export function defaultPullPolicy(image: string): 'Always' | 'IfNotPresent' {
  if (image.includes('@')) return 'IfNotPresent';
  const lastSlash = image.lastIndexOf('/');
  const tail = image.slice(lastSlash + 1);
  const colon = tail.lastIndexOf(':');
  if (colon < 0) return 'Always';
  return tail.slice(colon + 1) === 'latest' ? 'Always' : 'IfNotPresent';
}

function defaultContainer(c: IContainer): void {
  c.terminationMessagePath ??= '/dev/termination-log';
  c.terminationMessagePolicy ??= 'File';
  if (c.image) c.imagePullPolicy ??= defaultPullPolicy(c.image);
  c.resources ??= {};
  const lim = c.resources.limits;
  if (lim) {
    // requests default to the limits of the same resource
    const req = { ...(c.resources.requests ?? {}) };
    for (const [k, v] of Object.entries(lim)) if (req[k] === undefined) req[k] = v;
    c.resources.requests = req;
  }
  for (const p of c.ports ?? []) p.protocol ??= 'TCP';
}

const DEFAULT_TOLERATIONS: IToleration[] = [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
];

export function applyPodDefaults(pod: Pod, version: KubeVersion): void {
  const spec = pod.spec ?? { containers: [] };
  pod.spec = spec;
  spec.restartPolicy ??= 'Always';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.securityContext ??= {};
  spec.schedulerName ??= 'default-scheduler';
  spec.enableServiceLinks ??= true;
  spec.serviceAccountName ??= spec.serviceAccount ?? 'default';
  spec.serviceAccount = spec.serviceAccountName;
  spec.priority ??= 0;
  spec.preemptionPolicy ??= 'PreemptLowerPriority';
  const tolerations = spec.tolerations ?? [];
  for (const t of DEFAULT_TOLERATIONS) {
    if (!tolerations.some((x) => x.key === t.key && x.effect === t.effect)) tolerations.push({ ...t });
  }
  spec.tolerations = tolerations;
  for (const c of spec.containers ?? []) defaultContainer(c);
  for (const c of spec.initContainers ?? []) defaultContainer(c);
  if (version === '1.34' && pod.metadata) pod.metadata.generation = 1;
  pod.status = { phase: 'Pending', qosClass: qosClass([...(spec.initContainers ?? []), ...(spec.containers ?? [])]) };
}
