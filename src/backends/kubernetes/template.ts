// The operator's pod template, checked once when the backend is created and merged into every
// pod. The rules:
//
// - Shape: `{metadata: {labels, annotations}, spec: {…}}` (a PodTemplateSpec; `apiVersion: v1`
//   and `kind: Pod` are tolerated). Anything else is refused, naming the field.
// - metadata.labels / metadata.annotations are added to every pod. Keys under `wharf.dev/` are
//   Wharf's own and refused; Wharf's values would win anyway.
// - spec may set, and only set: nodeSelector, tolerations, affinity, topologySpreadConstraints,
//   priorityClassName, serviceAccountName, imagePullSecrets, volumes, containers and
//   initContainers. They are taken as given, except:
//   - containers / initContainers are *sidecars* added next to the task container, which stays
//     Wharf's: none may be named "main"; none may be privileged, allow privilege escalation, add
//     capabilities, use an Unconfined seccomp profile, set procMount or a hostPort. Each gets
//     `allowPrivilegeEscalation: false` and `capabilities.drop: [ALL]` unless it says otherwise
//     (within those limits). Sidecars may mount the template's volumes; the task container
//     mounts none of them.
//   - volumes: no hostPath. Volume and container names starting with "wharf-" are Wharf's own
//     (the task's /tmp, the features' sidecars and volumes).
//   - initContainers run after those of the task's features.
//   - imagePullSecrets are added after Wharf's own pull secret.
//   - serviceAccountName: the token is still not mounted (automountServiceAccountToken stays
//     false); the account's imagePullSecrets still apply.
// - Everything else — the task container's command, image or securityContext, hostNetwork,
//   hostPID, hostIPC, the pod securityContext, restartPolicy, activeDeadlineSeconds,
//   runtimeClassName, automountServiceAccountToken… — is Wharf's, and refused.
// The values of allowed fields are checked by the API server when a pod is created.
import type {
  V1Affinity, V1Container, V1LocalObjectReference, V1Pod, V1Toleration, V1TopologySpreadConstraint, V1Volume,
} from '@kubernetes/client-node';
import { OWN_PREFIX, TASK_CONTAINER, isDnsLabel, isLabelKey, isLabelValue } from './names.js';

/** The template as an operator writes it (parsed YAML or JSON). */
export type PodTemplate = Record<string, unknown>;

/** Container and volume names Wharf keeps for itself. */
const RESERVED_PREFIX = 'wharf-';

export class PodTemplateError extends Error {
  override readonly name = 'PodTemplateError';
  constructor(readonly field: string, detail: string) {
    super(`pod template: ${field}: ${detail}`);
  }
}

/** A template that passed the checks. */
export interface CheckedTemplate {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  nodeSelector?: Record<string, string>;
  tolerations?: V1Toleration[];
  affinity?: V1Affinity;
  topologySpreadConstraints?: V1TopologySpreadConstraint[];
  priorityClassName?: string;
  serviceAccountName?: string;
  imagePullSecrets: V1LocalObjectReference[];
  volumes: V1Volume[];
  containers: V1Container[];
  initContainers: V1Container[];
}

const SPEC_FIELDS = [
  'nodeSelector', 'tolerations', 'affinity', 'topologySpreadConstraints', 'priorityClassName', 'serviceAccountName',
  'imagePullSecrets', 'volumes', 'containers', 'initContainers',
] as const;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function record(v: unknown, field: string): Record<string, unknown> {
  if (!isRecord(v)) throw new PodTemplateError(field, 'expected an object');
  return v;
}

function list(v: unknown, field: string): Record<string, unknown>[] {
  if (!Array.isArray(v)) throw new PodTemplateError(field, 'expected a list');
  return v.map((x, i) => record(x, `${field}[${i}]`));
}

function text(v: unknown, field: string): string {
  if (typeof v !== 'string' || v === '') throw new PodTemplateError(field, 'expected a non-empty string');
  return v;
}

function stringMap(v: unknown, field: string, check: (k: string, val: string) => void): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(record(v, field))) {
    if (typeof val !== 'string') throw new PodTemplateError(`${field}.${k}`, 'expected a string value');
    check(k, val);
    out[k] = val;
  }
  return out;
}

function notOurs(field: string, key: string): void {
  if (key.startsWith(OWN_PREFIX)) throw new PodTemplateError(`${field}.${key}`, `keys under ${OWN_PREFIX} are Wharf's own`);
}

function checkMetadata(v: unknown): { labels: Record<string, string>; annotations: Record<string, string> } {
  const m = record(v, 'metadata');
  for (const k of Object.keys(m)) {
    if (k !== 'labels' && k !== 'annotations') {
      throw new PodTemplateError(`metadata.${k}`, 'not allowed (a template may set metadata.labels and metadata.annotations; Wharf names each pod)');
    }
  }
  const labels = m['labels'] === undefined ? {} : stringMap(m['labels'], 'metadata.labels', (k, val) => {
    notOurs('metadata.labels', k);
    if (!isLabelKey(k)) throw new PodTemplateError(`metadata.labels.${k}`, 'not a valid label key');
    if (!isLabelValue(val)) throw new PodTemplateError(`metadata.labels.${k}`, `${JSON.stringify(val)} is not a valid label value (≤ 63 of A-Z a-z 0-9 - _ ., alphanumeric at both ends)`);
  });
  const annotations = m['annotations'] === undefined ? {} : stringMap(m['annotations'], 'metadata.annotations', (k) => {
    notOurs('metadata.annotations', k);
    if (!isLabelKey(k)) throw new PodTemplateError(`metadata.annotations.${k}`, 'not a valid annotation key');
  });
  return { labels, annotations };
}

/** A sidecar: anything a container may say, within the hardening. */
function checkSidecar(c: Record<string, unknown>, field: string, volumes: Set<string>, names: Set<string>): V1Container {
  const name = text(c['name'], `${field}.name`);
  if (name === TASK_CONTAINER) {
    throw new PodTemplateError(`${field}.name`, `"${TASK_CONTAINER}" is the task's container, which Wharf builds from the task (its command, image and securityContext cannot be templated)`);
  }
  if (!isDnsLabel(name)) throw new PodTemplateError(`${field}.name`, `${JSON.stringify(name)} is not a DNS-1123 label`);
  if (name.startsWith(RESERVED_PREFIX)) throw new PodTemplateError(`${field}.name`, `names starting with "${RESERVED_PREFIX}" are Wharf's own (its feature sidecars)`);
  if (names.has(name)) throw new PodTemplateError(`${field}.name`, `a second container named ${JSON.stringify(name)}`);
  names.add(name);
  text(c['image'], `${field}.image`);
  const sc = c['securityContext'] === undefined ? {} : record(c['securityContext'], `${field}.securityContext`);
  if (sc['privileged'] === true) throw new PodTemplateError(`${field}.securityContext.privileged`, 'a sidecar may not be privileged');
  if (sc['allowPrivilegeEscalation'] === true) throw new PodTemplateError(`${field}.securityContext.allowPrivilegeEscalation`, 'a sidecar may not allow privilege escalation');
  if (sc['procMount'] !== undefined) throw new PodTemplateError(`${field}.securityContext.procMount`, 'not allowed in a sidecar');
  const seccomp = sc['seccompProfile'];
  if (isRecord(seccomp) && seccomp['type'] === 'Unconfined') throw new PodTemplateError(`${field}.securityContext.seccompProfile`, 'a sidecar may not run Unconfined');
  const caps = sc['capabilities'] === undefined ? {} : record(sc['capabilities'], `${field}.securityContext.capabilities`);
  if (Array.isArray(caps['add']) && caps['add'].length) throw new PodTemplateError(`${field}.securityContext.capabilities.add`, 'a sidecar may not add capabilities');
  const drop = Array.isArray(caps['drop']) ? caps['drop'].filter((x): x is string => typeof x === 'string') : [];
  for (const [i, p] of (c['ports'] === undefined ? [] : list(c['ports'], `${field}.ports`)).entries()) {
    if (p['hostPort'] !== undefined) throw new PodTemplateError(`${field}.ports[${i}].hostPort`, 'host ports are not allowed');
  }
  for (const [i, m] of (c['volumeMounts'] === undefined ? [] : list(c['volumeMounts'], `${field}.volumeMounts`)).entries()) {
    const v = text(m['name'], `${field}.volumeMounts[${i}].name`);
    if (!volumes.has(v)) throw new PodTemplateError(`${field}.volumeMounts[${i}].name`, `no volume ${JSON.stringify(v)} in the template's spec.volumes`);
  }
  const hardened = {
    ...sc,
    allowPrivilegeEscalation: false,
    capabilities: { ...caps, drop: drop.includes('ALL') ? drop : [...drop, 'ALL'] },
  };
  return { ...c, securityContext: hardened } as V1Container;
}

function checkSpec(v: unknown): Omit<CheckedTemplate, 'labels' | 'annotations'> {
  const spec = record(v, 'spec');
  for (const k of Object.keys(spec)) {
    if (!(SPEC_FIELDS as readonly string[]).includes(k)) {
      throw new PodTemplateError(`spec.${k}`, `not allowed in a pod template (it may set ${SPEC_FIELDS.join(', ')})`);
    }
  }
  const out: Omit<CheckedTemplate, 'labels' | 'annotations'> = { imagePullSecrets: [], volumes: [], containers: [], initContainers: [] };
  if (spec['nodeSelector'] !== undefined) out.nodeSelector = stringMap(spec['nodeSelector'], 'spec.nodeSelector', () => undefined);
  if (spec['tolerations'] !== undefined) out.tolerations = list(spec['tolerations'], 'spec.tolerations') as V1Toleration[];
  if (spec['affinity'] !== undefined) out.affinity = record(spec['affinity'], 'spec.affinity') as V1Affinity;
  if (spec['topologySpreadConstraints'] !== undefined) {
    out.topologySpreadConstraints = list(spec['topologySpreadConstraints'], 'spec.topologySpreadConstraints') as unknown as V1TopologySpreadConstraint[];
  }
  if (spec['priorityClassName'] !== undefined) out.priorityClassName = text(spec['priorityClassName'], 'spec.priorityClassName');
  if (spec['serviceAccountName'] !== undefined) out.serviceAccountName = text(spec['serviceAccountName'], 'spec.serviceAccountName');
  if (spec['imagePullSecrets'] !== undefined) {
    out.imagePullSecrets = list(spec['imagePullSecrets'], 'spec.imagePullSecrets').map((s, i) => ({ name: text(s['name'], `spec.imagePullSecrets[${i}].name`) }));
  }
  const volumes = new Set<string>();
  for (const [i, vol] of (spec['volumes'] === undefined ? [] : list(spec['volumes'], 'spec.volumes')).entries()) {
    const name = text(vol['name'], `spec.volumes[${i}].name`);
    if (name.startsWith(RESERVED_PREFIX)) throw new PodTemplateError(`spec.volumes[${i}].name`, `names starting with "${RESERVED_PREFIX}" are Wharf's own (the task's /tmp, its features' volumes)`);
    if (volumes.has(name)) throw new PodTemplateError(`spec.volumes[${i}].name`, `a second volume named ${JSON.stringify(name)}`);
    if (vol['hostPath'] !== undefined) throw new PodTemplateError(`spec.volumes[${i}].hostPath`, 'hostPath volumes are not allowed');
    volumes.add(name);
    out.volumes.push(vol as unknown as V1Volume);
  }
  const names = new Set<string>();
  for (const key of ['containers', 'initContainers'] as const) {
    if (spec[key] === undefined) continue;
    out[key] = list(spec[key], `spec.${key}`).map((c, i) => checkSidecar(c, `spec.${key}[${i}]`, volumes, names));
  }
  return out;
}

/** YAML's empty values (`labels:`) are null: unset, as the API server reads them. */
function withoutNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutNulls);
  if (!isRecord(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (x !== null) out[k] = withoutNulls(x);
  return out;
}

/** Checks a template; throws PodTemplateError naming the first field that is not allowed. */
export function checkPodTemplate(raw: PodTemplate): CheckedTemplate {
  const t = record(withoutNulls(raw), '(template)');
  for (const [k, v] of Object.entries(t)) {
    if (k === 'apiVersion' && v === 'v1') continue;
    if (k === 'kind' && v === 'Pod') continue;
    if (k !== 'metadata' && k !== 'spec') throw new PodTemplateError(k, 'not allowed (a pod template has metadata and spec)');
  }
  const meta = t['metadata'] === undefined ? { labels: {}, annotations: {} } : checkMetadata(t['metadata']);
  const spec = t['spec'] === undefined ? checkSpec({}) : checkSpec(t['spec']);
  return { ...meta, ...spec };
}

/** The pod with the template merged in (a new object; Wharf's own labels and settings win). */
export function applyTemplate(pod: V1Pod, t: CheckedTemplate): V1Pod {
  const spec = pod.spec ?? { containers: [] };
  const merged = structuredClone({ t, spec });
  const out: V1Pod = {
    ...pod,
    metadata: {
      ...pod.metadata,
      labels: { ...t.labels, ...pod.metadata?.labels },
      annotations: { ...t.annotations, ...pod.metadata?.annotations },
    },
    spec: {
      ...merged.spec,
      containers: [...merged.spec.containers, ...merged.t.containers],
      volumes: [...(merged.spec.volumes ?? []), ...merged.t.volumes],
    },
  };
  const s = out.spec;
  if (!s) return out;
  // After Wharf's own (a feature's sidecar must be up before the template's init containers run).
  if (merged.t.initContainers.length) s.initContainers = [...(merged.spec.initContainers ?? []), ...merged.t.initContainers];
  const pulls = [...(spec.imagePullSecrets ?? []), ...merged.t.imagePullSecrets];
  const seen = new Set<string>();
  const unique = pulls.filter((p) => p.name !== undefined && !seen.has(p.name) && (seen.add(p.name), true));
  if (unique.length) s.imagePullSecrets = unique;
  if (merged.t.nodeSelector) s.nodeSelector = merged.t.nodeSelector;
  if (merged.t.tolerations) s.tolerations = merged.t.tolerations;
  if (merged.t.affinity) s.affinity = merged.t.affinity;
  if (merged.t.topologySpreadConstraints) s.topologySpreadConstraints = merged.t.topologySpreadConstraints;
  if (merged.t.priorityClassName !== undefined) s.priorityClassName = merged.t.priorityClassName;
  if (merged.t.serviceAccountName !== undefined) s.serviceAccountName = merged.t.serviceAccountName;
  return out;
}
