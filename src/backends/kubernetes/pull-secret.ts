// The pull secret of one attempt: a `kubernetes.io/dockerconfigjson` Secret with the credentials
// of the image's registry only (never the whole store), named and labelled like the pod so it is
// found and deleted with it. Pure.
import type { V1Secret } from '@kubernetes/client-node';
import { dockerConfigJson, parseImageRef, type CredentialStore } from '../../builders/registry/index.js';

export interface SecretMeta {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/**
 * The secret for pulling `image`, or undefined when the store has no credentials for its
 * registry (the pull is then anonymous). Throws ImageRefError for a reference that does not parse.
 */
export function pullSecretFor(image: string, store: CredentialStore, meta: SecretMeta): V1Secret | undefined {
  const { registry } = parseImageRef(image);
  const creds = store.get(registry);
  if (!creds) return undefined;
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: meta.name, namespace: meta.namespace, labels: meta.labels, annotations: meta.annotations },
    type: 'kubernetes.io/dockerconfigjson',
    // dockerConfigJson keys Docker Hub as https://index.docker.io/v1/, as the kubelet looks it up.
    data: { '.dockerconfigjson': Buffer.from(dockerConfigJson([[registry, creds]]), 'utf8').toString('base64') },
  };
}
