// The build pod and its credentials secret, as plain objects. Pure.
//
// Why one pod per build: Kaniko builds into its own container's root filesystem (it unpacks the
// base image over `/`), so a container can build once and must then be thrown away; a per-build
// pod also gives each build its own credentials, resources and log, and nothing outlives it.
// Why the context goes over `attach` (stdin, `--context=tar://stdin`): the worker and the build
// pod share no volume, and an object store or init container would be one more moving part.
import type { V1Pod, V1ResourceRequirements, V1Secret } from '@kubernetes/client-node';
import { labelValue } from '../../backends/kubernetes/names.js';
import { dockerConfigJson, type RegistryCredentials } from '../registry/index.js';

export const KANIKO_CONTAINER = 'kaniko';
/** The label of every build pod and secret: the Wharf instance that made it. */
export const BUILD_LABEL = 'wharf.dev/build';
/** Where Kaniko reads `config.json` (DOCKER_CONFIG of its image). */
export const DOCKER_CONFIG_DIR = '/kaniko/.docker';

export const DEFAULT_RESOURCES: V1ResourceRequirements = {
  requests: { cpu: '500m', memory: '1Gi' },
  limits: { memory: '2Gi' },
};

export interface KanikoPodSpec {
  name: string;
  namespace: string;
  instanceId: string;
  image: string;
  args: string[];
  /** The dockerconfigjson secret to mount at /kaniko/.docker, when there are credentials. */
  secretName?: string;
  resources: V1ResourceRequirements;
}

export interface KanikoArgsSpec {
  dockerfile: string;
  destination: string;
  buildArgs: Record<string, string>;
  target?: string;
  cacheRepo?: string;
  /** Kaniko speaks plain http to these registries when pushing (`--insecure`) and pulling (`--insecure-pull`). */
  insecurePush: boolean;
  insecurePull: boolean;
  extraFlags: readonly string[];
}

export function kanikoArgs(s: KanikoArgsSpec): string[] {
  return [
    '--context=tar://stdin',
    `--dockerfile=${s.dockerfile}`,
    `--destination=${s.destination}`,
    // The kubelet hands this file back as the terminated state's `message`: the pushed digest,
    // without a volume or reading the log.
    '--digest-file=/dev/termination-log',
    ...Object.entries(s.buildArgs).flatMap(([k, v]) => ['--build-arg', `${k}=${v}`]),
    ...(s.target !== undefined ? ['--target', s.target] : []),
    ...(s.cacheRepo !== undefined ? ['--cache=true', `--cache-repo=${s.cacheRepo}`] : []),
    ...(s.insecurePush ? ['--insecure'] : []),
    ...(s.insecurePull ? ['--insecure-pull'] : []),
    ...s.extraFlags,
  ];
}

export function buildLabels(instanceId: string): Record<string, string> {
  // Not wharf.dev/attempt-id: the kubernetes backend's informer must not take a build for a run.
  return { [BUILD_LABEL]: labelValue(instanceId) };
}

export function kanikoSecret(name: string, namespace: string, instanceId: string, creds: ReadonlyMap<string, RegistryCredentials>): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace, labels: buildLabels(instanceId) },
    type: 'kubernetes.io/dockerconfigjson',
    data: { '.dockerconfigjson': Buffer.from(dockerConfigJson(creds), 'utf8').toString('base64') },
  };
}

export function kanikoPod(s: KanikoPodSpec): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: s.name, namespace: s.namespace, labels: buildLabels(s.instanceId) },
    spec: {
      restartPolicy: 'Never',
      // The executor talks to registries only; an API token in the pod would be a gift to a Dockerfile's RUN.
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      containers: [{
        name: KANIKO_CONTAINER,
        image: s.image,
        args: s.args,
        // The context arrives on stdin (attach), once: its end is the end of the tar.
        stdin: true,
        stdinOnce: true,
        tty: false,
        terminationMessagePath: '/dev/termination-log',
        terminationMessagePolicy: 'File',
        resources: s.resources,
        securityContext: {
          // Kaniko fails as non-root (`chown /kaniko/buildcontext`): root in its own container only.
          runAsUser: 0,
          runAsNonRoot: false,
          // Never more than root-in-container: no setuid escalation, no privileged mode.
          allowPrivilegeEscalation: false,
          privileged: false,
          capabilities: {
            drop: ['ALL'],
            // A simple FROM/RUN/COPY builds with none; `chown`, `COPY --chown` and `USER` need
            // exactly these five (each one missing fails). All within the baseline standard.
            add: ['CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'SETUID', 'SETGID'],
          },
          seccompProfile: { type: 'RuntimeDefault' },
          // Kaniko unpacks the image over its own `/` (fails read-only: `mkdir /kaniko/buildcontext`).
          readOnlyRootFilesystem: false,
        },
        ...(s.secretName !== undefined ? { volumeMounts: [{ name: 'docker-config', mountPath: DOCKER_CONFIG_DIR, readOnly: true }] } : {}),
      }],
      ...(s.secretName !== undefined ? {
        volumes: [{ name: 'docker-config', secret: { secretName: s.secretName, items: [{ key: '.dockerconfigjson', path: 'config.json' }] } }],
      } : {}),
    },
  };
}
