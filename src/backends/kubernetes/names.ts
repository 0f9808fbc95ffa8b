// Names and label values for the objects of a run. Kubernetes is strict where Wharf is not: a pod
// name used as a hostname is a DNS-1123 label (≤ 63, lower case), a label value ≤ 63 of
// [A-Za-z0-9_.-] starting and ending alphanumeric. Ids that do not fit are shortened with a hash
// of the exact value, so two different ids never share a name; the exact values stay in
// annotations, which take any text. Pure.
import { createHash } from 'node:crypto';

/** Annotations the backend adds for itself: the exact run id and labels (label values may be shortened). */
export const ANNOTATIONS = {
  runId: 'wharf.dev/run-id',
  labels: 'wharf.dev/labels',
} as const;

/** The task's container; the pod template may not define a container of this name. */
export const TASK_CONTAINER = 'main';
/** The emptyDir on /tmp of the task container. */
export const TMP_VOLUME = 'wharf-tmp';
/** Every Wharf label and annotation key lives under this prefix; a pod template may not set one. */
export const OWN_PREFIX = 'wharf.dev/';

const POD_PREFIX = 'wharf-';
const MAX_NAME = 63;
const HASH_LEN = 10;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function shortHash(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex').slice(0, HASH_LEN);
}

export function isDnsLabel(text: string): boolean {
  return text.length <= MAX_NAME && DNS_LABEL.test(text);
}

export function isLabelValue(text: string): boolean {
  return text.length <= 63 && LABEL_VALUE.test(text);
}

/**
 * The pod's name (and its pull secret's): `wharf-<runId>` when that is a valid DNS label as is,
 * else `wharf-<readable part>-<hash of the run id>`. Deterministic, so a start repeated after a
 * crash meets its own pod (409) instead of making a second one.
 */
export function podName(runId: string): string {
  const plain = `${POD_PREFIX}${runId}`;
  if (isDnsLabel(plain)) return plain;
  const room = MAX_NAME - POD_PREFIX.length - 1 - HASH_LEN;
  const readable = runId.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/-{2,}/g, '-').slice(0, room).replace(/^-+|-+$/g, '');
  return `${POD_PREFIX}${readable ? `${readable}-` : ''}${shortHash(runId)}`;
}

/** The Secret holding a run's secret values (env and files), named after its pod (≤ 63 + 8, within the 253 a Secret may have). */
export function taskSecretName(pod: string): string {
  return `${pod}-secrets`;
}

/**
 * A label value for any text: itself when valid, else its valid characters (others → "-"),
 * shortened, with a hash of the exact text at the end.
 */
export function labelValue(text: string): string {
  if (isLabelValue(text)) return text;
  const room = 63 - 1 - HASH_LEN;
  const readable = text.replace(/[^A-Za-z0-9_.-]+/g, '-').slice(0, room).replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
  return readable ? `${readable}-${shortHash(text)}` : shortHash(text);
}

/** Label key syntax: an optional DNS-subdomain prefix and "/", then a name ≤ 63. */
export function isLabelKey(key: string): boolean {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (prefix.length === 0 || prefix.length > 253 || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(prefix))) return false;
  return name.length > 0 && name.length <= 63 && /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(name);
}

/** Pod labels for a run's labels: every value made label-safe (the exact ones go in an annotation). */
export function podLabels(labels: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) out[k] = labelValue(v);
  return out;
}

/** The `labelSelector` for `key=value` with a value made label-safe the same way. */
export function selectorFor(key: string, value: string): string {
  return `${key}=${labelValue(value)}`;
}
