// The Kubernetes objects a Wharf worker needs in its namespace: a ServiceAccount, a Role with
// the minimal rules for what it will do, the RoleBinding, and the Deployment. Pure: objects in,
// the CLI prints them as YAML.

export interface ManifestOptions {
  namespace: string;
  /** Wharf's image; default `wharf:<version>`. */
  image: string;
  /** Kaniko builds in the cluster: the context goes to the build pod over pods/attach. */
  builds: boolean;
  /** Workloads (long-lived sandboxes with exec). */
  workloads: boolean;
  /** Wharf creates and deletes Secrets: per-pod pull secrets, Kaniko's registry credentials, tasks' secrets. */
  secrets: boolean;
}

export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

export const NAME = 'wharf';
const LABELS = { 'app.kubernetes.io/name': 'wharf', 'app.kubernetes.io/component': 'worker' };

/**
 * Exactly what the worker does, no wildcards. WebSocket upgrades (attach, exec) are authorized
 * as `get` by API servers up to 1.34 and as `get` and `create` from 1.35, so both are listed.
 */
export function roleRules(o: Pick<ManifestOptions, 'builds' | 'workloads' | 'secrets'>): PolicyRule[] {
  const rules: PolicyRule[] = [
    { apiGroups: [''], resources: ['pods'], verbs: ['create', 'get', 'list', 'watch', 'delete'] },
    { apiGroups: [''], resources: ['pods/log'], verbs: ['get'] },
  ];
  if (o.builds) rules.push({ apiGroups: [''], resources: ['pods/attach'], verbs: ['create', 'get'] });
  if (o.workloads) rules.push({ apiGroups: [''], resources: ['pods/exec'], verbs: ['create', 'get'] });
  if (o.secrets) rules.push({ apiGroups: [''], resources: ['secrets'], verbs: ['create', 'get', 'delete'] });
  return rules;
}

export function manifests(o: ManifestOptions): Record<string, unknown>[] {
  const meta = { name: NAME, namespace: o.namespace, labels: LABELS };
  const serviceAccount = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta, automountServiceAccountToken: true };
  const role = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: meta, rules: roleRules(o) };
  const binding = {
    apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: meta,
    subjects: [{ kind: 'ServiceAccount', name: NAME, namespace: o.namespace }],
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: NAME },
  };
  const probe = (path: string) => ({ httpGet: { path, port: 'http' }, periodSeconds: 10, timeoutSeconds: 2 });
  const deployment = {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: meta,
    spec: {
      // One replica: the embedded SQLite store lives on the pod's volume (PostgreSQL for more).
      replicas: 1,
      strategy: { type: 'Recreate' },
      selector: { matchLabels: LABELS },
      template: {
        metadata: { labels: LABELS },
        spec: {
          serviceAccountName: NAME,
          securityContext: { runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [{
            name: 'wharf',
            image: o.image,
            args: ['serve', '--host', '0.0.0.0', '--docker', 'off', '--kubernetes', 'on', '--namespace', o.namespace],
            env: [{ name: 'WHARF_HOME', value: '/var/lib/wharf' }],
            ports: [{ name: 'http', containerPort: 5255 }],
            livenessProbe: probe('/health'),
            readinessProbe: probe('/ready'),
            resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } },
            securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
            volumeMounts: [{ name: 'data', mountPath: '/var/lib/wharf' }, { name: 'tmp', mountPath: '/tmp' }],
          }],
          volumes: [{ name: 'data', emptyDir: {} }, { name: 'tmp', emptyDir: {} }],
        },
      },
    },
  };
  return [serviceAccount, role, binding, deployment];
}
