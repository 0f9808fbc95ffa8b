// The kubernetes backend of a Wharf process, when configured: in-cluster (a pod with a service
// account) or an explicit kubeconfig. Never a default kubeconfig found lying around: a worker
// must not start creating pods in whatever cluster ~/.kube happens to point at.
import { readFile } from 'node:fs/promises';
import type { KubeConfig } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { createKubernetesBackend, DEFAULT_FEATURE_SETTINGS, kubeConfigFrom, type KubernetesBackend } from '../backends/kubernetes/index.js';
import type { CredentialStore } from '../builders/registry/index.js';
import { formatError } from '../core/format-error.js';

export interface KubernetesOptions {
  /** 'auto' (default): on inside a pod or when a kubeconfig is given; 'on': fail without one; 'off'. */
  mode?: 'auto' | 'on' | 'off';
  kubeconfig?: string;
  context?: string;
  /** Namespace of the pods (default "default"). */
  namespace?: string;
  /** A pod template file (YAML) merged into every pod. */
  podTemplate?: string;
  /** An existing dockerconfigjson secret for every pod; else `managePullSecrets` with the credentials. */
  pullSecret?: string;
  managePullSecrets?: boolean;
  /** A pod pending this long ends start_failed (default 5 min). */
  pendingTimeoutMs?: number;
  /** The `docker` feature's sidecar image; the `kata` feature's RuntimeClass. */
  dockerSidecarImage?: string;
  kataRuntimeClass?: string;
}

export class KubernetesSetupError extends Error {
  override readonly name = 'KubernetesSetupError';
}

/** The backend, and the cluster and namespace it uses (for Kaniko builds there too). */
export interface OpenedKubernetes {
  backend: KubernetesBackend;
  kubeConfig: KubeConfig;
  namespace: string;
}

export async function openKubernetes(
  instanceId: string, o: KubernetesOptions, credentials: CredentialStore | undefined, notes: string[], report?: (m: string) => void,
): Promise<OpenedKubernetes | undefined> {
  const mode = o.mode ?? 'auto';
  if (mode === 'off') return undefined;
  const inCluster = o.kubeconfig === undefined && process.env.KUBERNETES_SERVICE_HOST !== undefined;
  if (o.kubeconfig === undefined && !inCluster) {
    if (mode === 'on') throw new KubernetesSetupError('the kubernetes backend was asked for, but there is no kubeconfig (--kubeconfig) and this is not a pod (no KUBERNETES_SERVICE_HOST)');
    return undefined;
  }
  try {
    const kubeConfig = kubeConfigFrom({ ...(o.kubeconfig !== undefined ? { path: o.kubeconfig } : { inCluster: true }), ...(o.context ? { context: o.context } : {}) });
    const podTemplate = o.podTemplate ? await readTemplate(o.podTemplate) : undefined;
    if (o.managePullSecrets && !credentials) throw new KubernetesSetupError('--manage-pull-secrets needs registry credentials (--docker-config)');
    const pullSecret = o.pullSecret ? { existing: o.pullSecret } : o.managePullSecrets && credentials ? { credentials } : undefined;
    const namespace = o.namespace ?? 'default';
    const backend = createKubernetesBackend({
      kubeConfig, namespace, instanceId, ...(podTemplate ? { podTemplate } : {}), ...(pullSecret ? { pullSecret } : {}),
      ...(o.pendingTimeoutMs !== undefined ? { pendingTimeoutMs: o.pendingTimeoutMs } : {}), ...(report ? { report } : {}),
      features: {
        dockerImage: o.dockerSidecarImage ?? DEFAULT_FEATURE_SETTINGS.dockerImage,
        kataRuntimeClass: o.kataRuntimeClass ?? DEFAULT_FEATURE_SETTINGS.kataRuntimeClass,
      },
    });
    notes.push(`kubernetes: ${inCluster ? 'in-cluster' : `${o.kubeconfig}${o.context ? ` (context ${o.context})` : ''}`}, namespace ${namespace}`);
    return { backend, kubeConfig, namespace };
  } catch (e) {
    throw e instanceof KubernetesSetupError ? e : new KubernetesSetupError(`the kubernetes backend: ${formatError(e)}`);
  }
}

async function readTemplate(path: string): Promise<Record<string, unknown>> {
  let doc: unknown;
  try {
    doc = parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw new KubernetesSetupError(`--pod-template ${path}: ${formatError(e)}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new KubernetesSetupError(`--pod-template ${path}: expected a map (a pod: metadata and spec)`);
  return doc as Record<string, unknown>;
}
