// The pod of one attempt. Pure: StartRequest + settings in, a V1Pod out (or why it cannot be).
//
// Hardening (the pod passes the *restricted* Pod Security Standard when the task states a
// non-root numeric user, or with `requireNonRoot`, and asks for no capability beyond
// NET_BIND_SERVICE, no privilege and not the `docker` feature, features.ts):
// - one bare pod, `restartPolicy: Never`: a retry is a new attempt, never a restarted container;
// - no service-account token, no service links in the environment;
// - pod `seccompProfile: RuntimeDefault`; `runAsNonRoot` + `runAsUser`/`runAsGroup` from a
//   numeric "uid[:gid]" user. A user *name* is refused: Kubernetes cannot look names up in the
//   image (runAsUser is a number), and guessing would run the task as someone else;
// - container: `allowPrivilegeEscalation: false`, every capability dropped and only the task's
//   added, `readOnlyRootFilesystem` unless `writableRootfs`, an emptyDir on /tmp, `privileged`
//   only when the plan says (the server's policy decided that at submit);
// - `command` is the whole argv (no `args`, the image's ENTRYPOINT is not put in front), and
//   every "$" is doubled: Kubernetes expands $(VAR) in command and env values, Wharf passes
//   them through as written;
// - resources as requests = limits (cpu in millicores, memory in bytes);
// - `activeDeadlineSeconds` = timeout + grace + a margin: Wharf's own timer fires first, the
//   deadline is the backstop when no worker is left to stop the pod;
// - secrets (task-secret.ts) by reference to the run's Secret, never a value; with secret files
//   and a numeric non-root user, `fsGroup` is that user's group (gid, else uid), since a secret
//   volume's files belong to root: the kubelet gives the fsGroup read access (0440).
import type { V1Container, V1EnvVar, V1Pod, V1PodSecurityContext, V1ResourceRequirements } from '@kubernetes/client-node';
import { LABELS, type StartRequest } from '../types.js';
import { applyFeatures, type FeatureSettings } from './features.js';
import { ANNOTATIONS, TASK_CONTAINER, TMP_VOLUME, podLabels, podName, taskSecretName } from './names.js';
import { secretParts } from './task-secret.js';

export interface PodSettings {
  namespace: string;
  /** The `wharf.dev/instance` of this backend. */
  instanceId: string;
  /** Grace for deletions that give none (the deadline's kill, an operator's delete). */
  terminationGraceSeconds: number;
  /** Added to the timeout (and the grace) for `activeDeadlineSeconds`. */
  deadlineMarginSeconds: number;
  /** sizeLimit of the /tmp emptyDir. */
  tmpBytes: number;
  /** runAsNonRoot on every pod: an image whose user is root then fails to start, saying so. */
  requireNonRoot: boolean;
  /** Secrets the kubelet pulls the image with. */
  imagePullSecrets: string[];
  /** What the task's `features` add (features.ts). */
  features: FeatureSettings;
}

export type PodResult = { pod: V1Pod } | { error: string };

/** Kubernetes' $(VAR) expansion turned off for one string: "$$" is a literal "$". */
export function escapeExpansion(text: string): string {
  return text.replaceAll('$', '$$$$');
}

/** "uid" or "uid:gid" → numbers; undefined for anything else (a name). */
export function numericUser(user: string): { uid: number; gid?: number } | undefined {
  const m = /^(\d+)(?::(\d+))?$/.exec(user);
  if (!m) return undefined;
  const uid = Number(m[1]);
  const gid = m[2] === undefined ? undefined : Number(m[2]);
  if (!Number.isSafeInteger(uid) || uid > 2 ** 31 - 1 || (gid !== undefined && (!Number.isSafeInteger(gid) || gid > 2 ** 31 - 1))) return undefined;
  return gid === undefined ? { uid } : { uid, gid };
}

function securityContext(req: StartRequest, s: PodSettings): { ctx: V1PodSecurityContext } | { error: string } {
  const ctx: V1PodSecurityContext = { seccompProfile: { type: 'RuntimeDefault' } };
  const user = req.plan.user;
  if (user !== undefined) {
    const n = numericUser(user);
    if (!n) {
      return { error: `user ${JSON.stringify(user)} is not numeric: on Kubernetes a task's user must be "uid" or "uid:gid" (runAsUser takes a number; names cannot be looked up in the image)` };
    }
    ctx.runAsUser = n.uid;
    if (n.gid !== undefined) ctx.runAsGroup = n.gid;
    if (n.uid !== 0) ctx.runAsNonRoot = true;
    else if (s.requireNonRoot) return { error: 'user 0 is root, and this worker requires non-root pods' };
  } else if (s.requireNonRoot) ctx.runAsNonRoot = true;
  return { ctx };
}

function resources(plan: StartRequest['plan']): V1ResourceRequirements | undefined {
  const r: Record<string, string> = {};
  const cpu = plan.resources?.cpu;
  if (cpu !== undefined && Number.isFinite(cpu) && cpu > 0) r['cpu'] = `${Math.max(1, Math.round(cpu * 1000))}m`;
  const mem = plan.resources?.memoryBytes;
  if (mem !== undefined && Number.isFinite(mem) && mem > 0) r['memory'] = String(Math.floor(mem));
  return Object.keys(r).length ? { requests: { ...r }, limits: { ...r } } : undefined;
}

export function buildPod(req: StartRequest, s: PodSettings): PodResult {
  const { plan } = req;
  if (plan.command.length === 0 || plan.command[0] === '') return { error: 'no command given' };
  if (!plan.image) return { error: 'no image given (the kubernetes backend runs every task in a container image)' };
  if (plan.inputs?.length || plan.outputs?.length) {
    return { error: 'inputs and outputs are not supported on the kubernetes backend (a pod has no host files to copy from or to); use the docker backend, or move the files through a registry or object store' };
  }
  if (plan.network !== undefined) {
    return { error: `network ${JSON.stringify(plan.network)}: pods use the cluster's pod network, the kubernetes backend takes no network (restrict traffic with a NetworkPolicy)` };
  }
  const sc = securityContext(req, s);
  if ('error' in sc) return sc;
  const secrets = secretParts(taskSecretName(podName(req.runId)), Object.keys(req.secrets?.env ?? {}), (req.secrets?.files ?? []).map((f) => f.path));
  if ('error' in secrets) return secrets;
  if (secrets.volumes.length && sc.ctx.runAsUser !== undefined && sc.ctx.runAsUser !== 0) {
    sc.ctx.fsGroup = sc.ctx.runAsGroup ?? sc.ctx.runAsUser;
  }

  const privileged = plan.privileged === true;
  const container: V1Container = {
    name: TASK_CONTAINER,
    image: plan.image,
    command: plan.command.map(escapeExpansion),
    env: [...Object.entries(req.env).map(([name, value]): V1EnvVar => ({ name, value: escapeExpansion(value) })), ...secrets.env],
    securityContext: {
      // The API refuses privileged together with allowPrivilegeEscalation: false.
      ...(privileged ? { privileged: true } : { allowPrivilegeEscalation: false }),
      capabilities: { drop: ['ALL'], ...(plan.capabilities?.length ? { add: [...plan.capabilities] } : {}) },
      readOnlyRootFilesystem: plan.writableRootfs !== true,
    },
    volumeMounts: [{ name: TMP_VOLUME, mountPath: '/tmp' }, ...secrets.mounts],
    stdin: false,
    tty: false,
  };
  if (plan.workingDir !== undefined) container.workingDir = plan.workingDir;
  const res = resources(plan);
  if (res) container.resources = res;

  const labels = { ...req.labels, [LABELS.instance]: s.instanceId };
  const pod: V1Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: podName(req.runId),
      namespace: s.namespace,
      labels: podLabels(labels),
      annotations: { [ANNOTATIONS.runId]: req.runId, [ANNOTATIONS.labels]: JSON.stringify(labels) },
    },
    spec: {
      restartPolicy: 'Never',
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      terminationGracePeriodSeconds: s.terminationGraceSeconds,
      securityContext: sc.ctx,
      containers: [container],
      volumes: [{ name: TMP_VOLUME, emptyDir: { sizeLimit: String(s.tmpBytes) } }, ...secrets.volumes],
    },
  };
  const spec = pod.spec;
  if (spec && plan.timeoutMs !== undefined && plan.timeoutMs > 0) {
    spec.activeDeadlineSeconds = Math.ceil(plan.timeoutMs / 1000) + s.terminationGraceSeconds + s.deadlineMarginSeconds;
  }
  if (spec && s.imagePullSecrets.length) spec.imagePullSecrets = s.imagePullSecrets.map((name) => ({ name }));
  return { pod: applyFeatures(pod, plan.features ?? [], s.features) };
}
