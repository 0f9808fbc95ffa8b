// The body of POST /containers/create for one container of a pod: Kubernetes' command/args
// semantics, the merged pod and container securityContext (and the kubelet's runAsNonRoot
// check), resources as cgroup limits, the pod's volumes, and the host network.
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { Pod } from '../types.js';
import { ContainerConfigError, expandAll } from './env.js';
import { containerLimit, containerRequest } from './resources.js';
import type { DockerMount } from './volumes.js';

export const INSTANCE_LABEL = 'k8s-sim.instance';

export interface CreateInput {
  pod: Pod;
  container: IContainer;
  env: [string, string][];
  mounts: DockerMount[];
  /** The image's own user (Config.User), for runAsNonRoot and a group given alone. */
  imageUser: string;
  instance: string;
}

export function containerName(pod: Pod, container: string): string {
  const md = pod.metadata;
  return `k8s_${container}_${md?.name ?? ''}_${md?.namespace ?? 'default'}_${md?.uid ?? ''}_0`;
}

/** format.Pod: name_namespace(uid). */
function podDesc(pod: Pod): string {
  return `${pod.metadata?.name ?? ''}_${pod.metadata?.namespace ?? 'default'}(${pod.metadata?.uid ?? ''})`;
}

export function createBody(input: CreateInput): Record<string, unknown> {
  const { pod, container: c } = input;
  const psc = pod.spec?.securityContext ?? {};
  const sc = c.securityContext ?? {};
  const runAsUser = sc.runAsUser ?? psc.runAsUser;
  const runAsGroup = sc.runAsGroup ?? psc.runAsGroup;
  const imageUser = input.imageUser.split(':')[0] ?? '';
  verifyRunAsNonRoot(sc.runAsNonRoot ?? psc.runAsNonRoot, runAsUser, imageUser, pod, c.name);

  let user: string | undefined;
  if (runAsUser !== undefined) user = runAsGroup !== undefined ? `${runAsUser}:${runAsGroup}` : String(runAsUser);
  else if (runAsGroup !== undefined) user = `${imageUser || '0'}:${runAsGroup}`;

  const securityOpt: string[] = [];
  if (sc.allowPrivilegeEscalation === false) securityOpt.push('no-new-privileges');
  const seccomp = sc.seccompProfile?.type ?? psc.seccompProfile?.type;
  if (seccomp === 'Unconfined') securityOpt.push('seccomp=unconfined');

  const hostConfig: Record<string, unknown> = {
    NetworkMode: 'host',
    Mounts: input.mounts,
    CapAdd: sc.capabilities?.add ?? [],
    CapDrop: sc.capabilities?.drop ?? [],
    SecurityOpt: securityOpt,
    Privileged: Boolean(sc.privileged),
    ReadonlyRootfs: Boolean(sc.readOnlyRootFilesystem),
    GroupAdd: [...(psc.supplementalGroups ?? []), ...(psc.fsGroup !== undefined ? [psc.fsGroup] : [])].map(String),
    RestartPolicy: { Name: 'no' },
    LogConfig: { Type: 'json-file', Config: {} },
  };
  const memory = containerLimit(c, 'memory');
  if (memory !== undefined && memory > 0) {
    hostConfig['Memory'] = Math.floor(memory);
    hostConfig['MemorySwap'] = Math.floor(memory); // no swap on top: the limit is the OOM line
  }
  const cpu = containerLimit(c, 'cpu');
  if (cpu !== undefined && cpu > 0) hostConfig['NanoCpus'] = Math.round(cpu * 1e9);
  const cpuRequest = containerRequest(c, 'cpu');
  if (cpuRequest > 0) hostConfig['CpuShares'] = Math.max(2, Math.floor((cpuRequest * 1000 * 1024) / 1000));

  const md = pod.metadata;
  const body: Record<string, unknown> = {
    Image: c.image,
    Env: input.env.map(([k, v]) => `${k}=${v}`),
    Labels: {
      [INSTANCE_LABEL]: input.instance,
      'io.kubernetes.pod.name': md?.name ?? '',
      'io.kubernetes.pod.namespace': md?.namespace ?? 'default',
      'io.kubernetes.pod.uid': md?.uid ?? '',
      'io.kubernetes.container.name': c.name,
    },
    Tty: Boolean(c.tty),
    OpenStdin: Boolean(c.stdin),
    StdinOnce: Boolean(c.stdinOnce),
    AttachStdin: false,
    AttachStdout: false,
    AttachStderr: false,
    HostConfig: hostConfig,
  };
  // `command` replaces the image's ENTRYPOINT (and so drops its CMD), `args` replace its CMD:
  // the engine merges a create request with the image the same way.
  const command = expandAll(c.command?.length ? c.command : undefined, input.env);
  const args = expandAll(c.args?.length ? c.args : undefined, input.env);
  if (command) body['Entrypoint'] = command;
  if (args) body['Cmd'] = args;
  if (user !== undefined) body['User'] = user;
  if (c.workingDir) body['WorkingDir'] = c.workingDir;
  return body;
}

/** kuberuntime verifyRunAsNonRoot, with its messages. */
function verifyRunAsNonRoot(nonRoot: boolean | undefined, runAsUser: number | undefined, imageUser: string, pod: Pod, container: string): void {
  if (!nonRoot) return;
  const where = `(pod: "${podDesc(pod)}", container: ${container})`;
  if (runAsUser !== undefined) {
    if (runAsUser === 0) throw new ContainerConfigError(`container's runAsUser breaks non-root policy ${where}`);
    return;
  }
  const uid = /^\d+$/.test(imageUser) ? Number(imageUser) : imageUser === '' ? 0 : undefined;
  if (uid === 0) throw new ContainerConfigError(`container has runAsNonRoot and image will run as root ${where}`);
  if (uid === undefined) throw new ContainerConfigError(`container has runAsNonRoot and image has non-numeric user (${imageUser}), cannot verify user is non-root ${where}`);
}
