// The kubeconfig that points a client at the simulator: as options for client-node's
// KubeConfig.loadFromOptions, and as a kubeconfig YAML file's text.
import { stringify } from 'yaml';

export interface KubeConfigOptions {
  clusters: { name: string; server: string; caData?: string; skipTLSVerify: boolean }[];
  users: { name: string; token?: string }[];
  contexts: { name: string; cluster: string; user: string; namespace?: string }[];
  currentContext: string;
}

const NAME = 'k8s-sim';

/** `ca` is the serving certificate (PEM) of an https server; for plain http client-node insists on skipTLSVerify. */
export function kubeConfigOptions(url: string, ca: string | undefined, token: string | undefined, namespace: string | undefined): KubeConfigOptions {
  const user: { name: string; token?: string } = { name: NAME };
  if (token !== undefined) user.token = token;
  const context: { name: string; cluster: string; user: string; namespace?: string } = { name: NAME, cluster: NAME, user: NAME };
  if (namespace !== undefined) context.namespace = namespace;
  const cluster = ca !== undefined
    ? { name: NAME, server: url, caData: Buffer.from(ca).toString('base64'), skipTLSVerify: false }
    : { name: NAME, server: url, skipTLSVerify: true };
  return { clusters: [cluster], users: [user], contexts: [context], currentContext: NAME };
}

export function kubeConfigYaml(o: KubeConfigOptions): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: o.clusters.map((c) => ({
      name: c.name,
      cluster: { server: c.server, ...(c.caData ? { 'certificate-authority-data': c.caData } : {}), ...(c.skipTLSVerify ? { 'insecure-skip-tls-verify': true } : {}) },
    })),
    users: o.users.map((u) => ({ name: u.name, user: u.token !== undefined ? { token: u.token } : {} })),
    contexts: o.contexts.map((c) => ({ name: c.name, context: { cluster: c.cluster, user: c.user, ...(c.namespace ? { namespace: c.namespace } : {}) } })),
    'current-context': o.currentContext,
  });
}
