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
  pullSecrets?: boolean;
}

export const VERSION = '0.1.0';

export async function printManifests(f: ManifestFlags): Promise<number> {
  const docs = manifests({
    namespace: f.namespace, image: f.image ?? `${NAME}:${VERSION}`,
    builds: f.builds === true, workloads: f.workloads === true, pullSecrets: f.pullSecrets === true,
  });
  processOut.stdout(docs.map((d) => stringify(d, { lineWidth: 0 })).join('---\n'));
  return 0;
}
