// A container's environment as the kubelet makes it (makeEnvironmentVariables): envFrom first,
// then env in order, `$(VAR)` expanded against what was defined before, and the same errors
// (which become the CreateContainerConfigError waiting message) for a missing secret or key.
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { Pod, Secret } from '../types.js';
import { HOST_IP } from './status.js';

export class ContainerConfigError extends Error {
  override readonly name = 'ContainerConfigError';
}

export type GetSecret = (namespace: string, name: string) => Secret | undefined;

/** A secret's values, decoded (data is base64; stringData, if a server kept it, is plain). */
export function secretValues(s: Secret): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const [k, v] of Object.entries(s.stringData ?? {})) out.set(k, Buffer.from(v, 'utf8'));
  for (const [k, v] of Object.entries(s.data ?? {})) out.set(k, Buffer.from(v, 'base64'));
  return out;
}

const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/** KEY=value pairs in the order the runtime receives them. */
export function containerEnv(pod: Pod, c: IContainer, node: string, getSecret: GetSecret): [string, string][] {
  const ns = pod.metadata?.namespace ?? 'default';
  const env = new Map<string, string>();
  const secret = (name: string, optional: boolean | undefined): Map<string, Buffer> | undefined => {
    const s = getSecret(ns, name);
    if (!s) {
      if (optional) return undefined;
      throw new ContainerConfigError(`secret "${name}" not found`);
    }
    return secretValues(s);
  };
  for (const from of c.envFrom ?? []) {
    if (from.secretRef?.name) {
      const values = secret(from.secretRef.name, from.secretRef.optional);
      for (const [k, v] of values ?? []) {
        const key = `${from.prefix ?? ''}${k}`;
        if (ENV_NAME.test(key)) env.set(key, v.toString('utf8'));
      }
    } else if (from.configMapRef?.name && !from.configMapRef.optional) {
      throw new ContainerConfigError(`configmap "${from.configMapRef.name}" not found`);
    }
  }
  for (const e of c.env ?? []) {
    const from = e.valueFrom;
    if (!from) {
      env.set(e.name, expand(e.value ?? '', env));
      continue;
    }
    if (from.secretKeyRef) {
      const { name = '', key, optional } = from.secretKeyRef;
      const values = secret(name, optional);
      const v = values?.get(key);
      if (v === undefined) {
        if (values && !optional) throw new ContainerConfigError(`couldn't find key ${key} in Secret ${ns}/${name}`);
        continue;
      }
      env.set(e.name, v.toString('utf8'));
    } else if (from.fieldRef) {
      env.set(e.name, fieldValue(pod, from.fieldRef.fieldPath, node));
    } else if (from.configMapKeyRef) {
      if (!from.configMapKeyRef.optional) throw new ContainerConfigError(`configmap "${from.configMapKeyRef.name ?? ''}" not found`);
    } else if (from.resourceFieldRef) {
      const limit = c.resources?.limits?.[from.resourceFieldRef.resource.replace(/^limits\./, '')];
      if (limit !== undefined) env.set(e.name, String(limit));
    }
  }
  return [...env];
}

/** ExpandContainerCommandAndArgs. */
export function expandAll(args: string[] | undefined, env: [string, string][]): string[] | undefined {
  if (!args) return undefined;
  const m = new Map(env);
  return args.map((a) => expand(a, m));
}

/** third_party/forked/golang/expansion.Expand: `$(VAR)` when defined, `$$` → `$`, anything else kept. */
export function expand(input: string, vars: Map<string, string>): string {
  let out = '';
  let checkpoint = 0;
  for (let i = 0; i < input.length; i++) {
    if (input[i] !== '$' || i + 1 >= input.length) continue;
    out += input.slice(checkpoint, i);
    const next = input[i + 1];
    if (next === '$') {
      out += '$';
      i += 1;
    } else if (next === '(') {
      const close = input.indexOf(')', i + 2);
      if (close < 0) {
        out += '$(';
        i += 1;
      } else {
        const name = input.slice(i + 2, close);
        out += vars.get(name) ?? `$(${name})`;
        i = close;
      }
    } else {
      out += `$${next ?? ''}`;
      i += 1;
    }
    checkpoint = i + 1;
  }
  return out + input.slice(checkpoint);
}

function fieldValue(pod: Pod, path: string, node: string): string {
  const m = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  if (m) return (m[1] === 'labels' ? pod.metadata?.labels : pod.metadata?.annotations)?.[m[2] ?? ''] ?? '';
  switch (path) {
    case 'metadata.name': return pod.metadata?.name ?? '';
    case 'metadata.namespace': return pod.metadata?.namespace ?? '';
    case 'metadata.uid': return pod.metadata?.uid ?? '';
    case 'spec.nodeName': return node;
    case 'spec.serviceAccountName': return pod.spec?.serviceAccountName ?? '';
    case 'status.hostIP': case 'status.podIP': case 'status.hostIPs': case 'status.podIPs': return HOST_IP;
    default: throw new ContainerConfigError(`unsupported fieldPath: ${path}`);
  }
}
