// Named pod additions a task asks for (`features`), allowed by the server's policy at submit.
// Pure: the pod Wharf built in, the pod with the additions out.
//
// docker — a rootless Docker engine beside the task, with the settings nested runc needs
// (seed 002), none of which the task container itself gets:
// - a native sidecar (an init container with `restartPolicy: Always`): it starts before the
//   task, its startupProbe holds the task back until the engine answers, and the kubelet stops
//   it once the task has ended, so the pod still completes with the task's exit code;
// - `allowPrivilegeEscalation: true` (rootlesskit's newuidmap/newgidmap are setuid), seccomp and
//   AppArmor `Unconfined` (the runtime defaults block the mounts nested runc makes, e.g. /proc),
//   `procMount: Unmasked`, and no `drop: [ALL]` (the setuid helpers need their file capabilities);
// - `hostUsers: false`: the pod gets its own user namespace, so the sidecar's root-ish powers
//   are not the node's. The kubelet maps 65536 ids, so an init container writes /etc/subuid and
//   /etc/subgid giving the rootless user (1000) the ids above it, 1001–65535;
// - /dev/net/tun from the node (hostPath, CharDevice) for rootlesskit's network, and an emptyDir
//   as the engine's data root;
// - the engine's socket directory is an emptyDir shared with the task, whose DOCKER_HOST points
//   at it. The socket belongs to the rootless user: run the task as "1000" (or root) to use it.
// Such a pod passes neither the restricted nor the baseline Pod Security Standard: its namespace
// needs `privileged` (docs/kubernetes.md).
//
// kata — `runtimeClassName` set to the operator's Kata RuntimeClass: the pod runs in a microVM.
import type { V1Container, V1Pod, V1Volume } from '@kubernetes/client-node';
import type { Feature } from '../../spec/schema.js';
import { TASK_CONTAINER } from './names.js';

export interface FeatureSettings {
  /** A rootless Docker-in-Docker image (docker:…-dind-rootless or a copy of it). */
  dockerImage: string;
  /** The RuntimeClass of the `kata` feature. */
  kataRuntimeClass: string;
}

export const DEFAULT_FEATURE_SETTINGS: FeatureSettings = {
  dockerImage: 'docker:28-dind-rootless',
  kataRuntimeClass: 'kata-qemu',
};

export const DOCKER_SIDECAR = 'wharf-docker';
export const SUBID_INIT = 'wharf-subid';
/** Volumes the features add (the pod template may not use these names). */
export const FEATURE_VOLUMES = { run: 'wharf-docker-run', data: 'wharf-docker-data', subid: 'wharf-subid', tun: 'wharf-dev-tun' } as const;

const ROOTLESS_UID = 1000;
const SOCKET_DIR = `/run/user/${ROOTLESS_UID}`;
/** Where the task container sees the sidecar's socket directory. */
export const TASK_DOCKER_DIR = '/run/wharf-docker';
export const TASK_DOCKER_HOST = `unix://${TASK_DOCKER_DIR}/docker.sock`;

function dockerAdditions(image: string): { init: V1Container[]; volumes: V1Volume[] } {
  const subid = `rootless:${ROOTLESS_UID + 1}:${65536 - ROOTLESS_UID - 1}`;
  const writer: V1Container = {
    name: SUBID_INIT,
    image,
    command: ['sh', '-c', `echo ${subid} > /subid/subuid && echo ${subid} > /subid/subgid`],
    securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, runAsUser: ROOTLESS_UID, runAsGroup: ROOTLESS_UID },
    volumeMounts: [{ name: FEATURE_VOLUMES.subid, mountPath: '/subid' }],
  };
  const engine: V1Container = {
    name: DOCKER_SIDECAR,
    image,
    restartPolicy: 'Always',
    // The rootless wrapper itself, not the image's entrypoint (which adds a TCP listener): the
    // socket in the shared directory is the only way in.
    command: ['dockerd-rootless.sh', `--host=unix://${SOCKET_DIR}/docker.sock`],
    env: [
      { name: 'XDG_RUNTIME_DIR', value: SOCKET_DIR },
      { name: 'HOME', value: '/home/rootless' },
      { name: 'DOCKER_HOST', value: `unix://${SOCKET_DIR}/docker.sock` },
    ],
    securityContext: {
      allowPrivilegeEscalation: true,
      seccompProfile: { type: 'Unconfined' },
      appArmorProfile: { type: 'Unconfined' },
      procMount: 'Unmasked',
      runAsUser: ROOTLESS_UID,
      runAsGroup: ROOTLESS_UID,
    },
    startupProbe: { exec: { command: ['docker', 'info'] }, periodSeconds: 1, failureThreshold: 120 },
    volumeMounts: [
      { name: FEATURE_VOLUMES.run, mountPath: SOCKET_DIR },
      { name: FEATURE_VOLUMES.data, mountPath: `/home/rootless/.local/share` },
      { name: FEATURE_VOLUMES.subid, mountPath: '/etc/subuid', subPath: 'subuid' },
      { name: FEATURE_VOLUMES.subid, mountPath: '/etc/subgid', subPath: 'subgid' },
      { name: FEATURE_VOLUMES.tun, mountPath: '/dev/net/tun' },
    ],
  };
  return {
    init: [writer, engine],
    volumes: [
      { name: FEATURE_VOLUMES.run, emptyDir: {} },
      { name: FEATURE_VOLUMES.data, emptyDir: {} },
      { name: FEATURE_VOLUMES.subid, emptyDir: {} },
      { name: FEATURE_VOLUMES.tun, hostPath: { path: '/dev/net/tun', type: 'CharDevice' } },
    ],
  };
}

/** The pod with the features' additions (a new object). */
export function applyFeatures(pod: V1Pod, features: readonly Feature[], s: FeatureSettings): V1Pod {
  if (features.length === 0 || !pod.spec) return pod;
  const spec = structuredClone(pod.spec);
  if (features.includes('docker')) {
    const add = dockerAdditions(s.dockerImage);
    spec.hostUsers = false;
    spec.initContainers = [...add.init, ...(spec.initContainers ?? [])];
    spec.volumes = [...(spec.volumes ?? []), ...add.volumes];
    const task = spec.containers.find((c) => c.name === TASK_CONTAINER);
    if (task) {
      task.env = [...(task.env ?? []), { name: 'DOCKER_HOST', value: TASK_DOCKER_HOST }];
      task.volumeMounts = [...(task.volumeMounts ?? []), { name: FEATURE_VOLUMES.run, mountPath: TASK_DOCKER_DIR }];
    }
  }
  if (features.includes('kata')) spec.runtimeClassName = s.kataRuntimeClass;
  return { ...pod, spec };
}
