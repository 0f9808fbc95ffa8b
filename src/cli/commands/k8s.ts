// `wharf k8s manifests` prints what a worker needs in its namespace (minimal RBAC, no
// wildcards); `wharf k8s check` asks the cluster whether this identity has it.
import { stringify } from 'yaml';
import { manifests, NAME } from '../../k8s/manifests.js';
import { processOut } from '../output.js';

export interface ManifestFlags {
  namespace: string;
  image?: string;
  builds?: boolean;
  workloads?: boolean;
  secrets?: boolean;
  /** The old name of --secrets. */
  pullSecrets?: boolean;
}

export const VERSION = '0.1.0';

export async function printManifests(f: ManifestFlags): Promise<number> {
  const docs = manifests({
    namespace: f.namespace, image: f.image ?? `${NAME}:${VERSION}`,
    builds: f.builds === true, workloads: f.workloads === true, secrets: f.secrets === true || f.pullSecrets === true,
  });
  processOut.stdout(docs.map((d) => stringify(d, { lineWidth: 0 })).join('---\n'));
  return 0;
}

export interface CheckFlags extends ManifestFlags {
  kubeconfig?: string;
  kubeContext?: string;
}

/** Exit 0 when every verb the worker needs is allowed; 1, naming each missing one, otherwise. */
export async function check(f: CheckFlags): Promise<number> {
  const [{ kubeConfigFrom }, { checkPermissions, describePermission }] = await Promise.all([
    import('../../backends/kubernetes/index.js'), import('../../k8s/check.js'),
  ]);
  const kubeconfig = f.kubeconfig ?? process.env.WHARF_KUBECONFIG;
  const context = f.kubeContext ?? process.env.WHARF_KUBE_CONTEXT;
  const kc = kubeConfigFrom({ ...(kubeconfig ? { path: kubeconfig } : { inCluster: true }), ...(context ? { context } : {}) });
  const perms = await checkPermissions(kc, f.namespace, { builds: f.builds === true, workloads: f.workloads === true, secrets: f.secrets === true || f.pullSecrets === true });
  const missing = perms.filter((p) => !p.allowed);
  for (const p of perms) processOut.stdout(`${p.allowed ? 'ok     ' : 'MISSING'} ${describePermission(p)} in namespace ${f.namespace}\n`);
  if (missing.length === 0) return 0;
  processOut.stderr(`wharf: the worker cannot ${missing.map(describePermission).join(', ')}; apply \`wharf k8s manifests\` (or grant these verbs)\n`);
  return 1;
}
