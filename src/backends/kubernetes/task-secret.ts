// A run's secrets on Kubernetes: one Opaque Secret per attempt, named and labelled like its pod
// (so it is found and deleted with it), and the pod parts that use it — env vars through
// `secretKeyRef`, files through `secret` volumes with `items`, mode 0400, mounted read-only at
// their directories. The pod parts are made from names and paths only: a value is never in a
// pod spec. Pure.
//
// Directories: files share a volume when one's directory holds the other's (the shallowest
// directory is mounted; deeper files are items in subdirectories), so no mount is nested in a
// read-only one. A file directly in / or in /tmp (the task's scratch emptyDir) is refused: a
// mount there would hide the whole image, or collide with /tmp's own mount.
import { posix } from 'node:path';
import type { V1EnvVar, V1Pod, V1Secret, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import type { RunSecrets } from '../types.js';
import type { SecretMeta } from './pull-secret.js';

/** Volume names of the secret files (`wharf-` names are Wharf's own; a pod template cannot use them). */
export const SECRET_VOLUME_PREFIX = 'wharf-secrets-';
const FILE_MODE = 0o400;

/** Data keys (`[-._a-zA-Z0-9]+`): env.<VAR> for a variable, file.<i> for the i-th file. */
const envKey = (name: string): string => `env.${name}`;
const fileKey = (i: number): string => `file.${i}`;

export interface SecretParts {
  env: V1EnvVar[];
  volumes: V1Volume[];
  mounts: V1VolumeMount[];
}

/** Whether there is anything to put in a Secret. */
export function hasSecrets(s: RunSecrets | undefined): s is RunSecrets {
  return s !== undefined && (Object.keys(s.env).length > 0 || s.files.length > 0);
}

/** The pod parts for these secret env vars and files, or why the files cannot be placed. */
export function secretParts(secretName: string, envNames: readonly string[], filePaths: readonly string[]): SecretParts | { error: string } {
  const env = envNames.map((name): V1EnvVar => ({ name, valueFrom: { secretKeyRef: { name: secretName, key: envKey(name) } } }));
  const files = filePaths.map((p) => posix.normalize(p));
  const dirs = files.map((f) => posix.dirname(f));
  for (const [i, f] of files.entries()) {
    const dir = dirs[i] ?? '/';
    if (dir === '/') return { error: `secret file ${f}: a file directly in / cannot be mounted on Kubernetes; put it in a directory of its own (e.g. /run/secrets${f})` };
    if (dir === '/tmp') return { error: `secret file ${f}: /tmp is the task's scratch volume and cannot hold a secret mount; put it in a directory of its own (e.g. /run/secrets/${posix.basename(f)})` };
    const clash = files.find((other) => other.startsWith(`${f}/`));
    if (clash) return { error: `secret file ${f} is also the directory of secret file ${clash}` };
  }
  // Shallowest first: a directory inside a chosen one is part of its volume.
  const chosen: string[] = [];
  for (const d of [...new Set(dirs)].sort((a, b) => a.split('/').length - b.split('/').length || a.localeCompare(b))) {
    if (!chosen.some((c) => d === c || d.startsWith(`${c}/`))) chosen.push(d);
  }
  const volumes = chosen.map((dir, v): V1Volume => ({
    name: `${SECRET_VOLUME_PREFIX}${v}`,
    secret: {
      secretName,
      defaultMode: FILE_MODE,
      items: files.flatMap((f, i) => (within(dirs[i] ?? '', chosen) === dir ? [{ key: fileKey(i), path: posix.relative(dir, f) }] : [])),
    },
  }));
  const mounts = chosen.map((dir, v): V1VolumeMount => ({ name: `${SECRET_VOLUME_PREFIX}${v}`, mountPath: dir, readOnly: true }));
  return { env, volumes, mounts };
}

function within(dir: string, chosen: readonly string[]): string | undefined {
  return chosen.find((c) => dir === c || dir.startsWith(`${c}/`));
}

/** The Secret itself: the values, base64, under the keys secretParts refers to. */
export function taskSecret(secrets: RunSecrets, meta: SecretMeta): V1Secret {
  const data: Record<string, string> = {};
  for (const [name, value] of Object.entries(secrets.env)) data[envKey(name)] = b64(value);
  for (const [i, f] of secrets.files.entries()) data[fileKey(i)] = b64(f.value);
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: meta.name, namespace: meta.namespace, labels: meta.labels, annotations: meta.annotations },
    type: 'Opaque',
    data,
  };
}

/** Whether a pod refers to the Secret `name` (a volume or an env var of any container). */
export function podUsesSecret(pod: V1Pod, name: string): boolean {
  const spec = pod.spec;
  if (spec?.volumes?.some((v) => v.secret?.secretName === name)) return true;
  return [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])]
    .some((c) => c.env?.some((e) => e.valueFrom?.secretKeyRef?.name === name));
}

function b64(value: string): string {
  return Buffer.from(value, 'utf8').toString('base64');
}
