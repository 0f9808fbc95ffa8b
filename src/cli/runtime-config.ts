// What a Wharf process runs with beyond its store: the docker engine, the image builder and its
// registry, the policy. From `wharf serve`'s flags, else the environment (so the in-process CLI
// reads the same settings): DOCKER_HOST, WHARF_DOCKER, WHARF_BUILDER, WHARF_REGISTRY_PUSH,
// WHARF_REGISTRY_PULL, WHARF_REGISTRY_INSECURE (comma-separated), WHARF_DOCKER_CONFIG, WHARF_POLICY,
// WHARF_KUBERNETES, WHARF_KUBECONFIG, WHARF_KUBE_CONTEXT, WHARF_NAMESPACE, WHARF_POD_TEMPLATE,
// WHARF_PULL_SECRET.
import { readFile } from 'node:fs/promises';
import { parseRegistrySettings } from '../builders/registry/settings.js';
import { ApiError } from '../client/types.js';
import { formatError } from '../core/format-error.js';
import { duration } from './flags.js';
import type { ContainerOptions } from '../runtime/containers.js';
import type { KubernetesOptions } from '../runtime/kubernetes.js';
import { parsePolicy, type Policy } from '../spec/policy.js';

export interface ContainerFlags {
  dockerHost?: string;
  docker?: string;
  builder?: string;
  registryPush?: string;
  registryPull?: string;
  registryInsecure?: string[];
  dockerConfig?: string;
  kubernetes?: string;
  kubeconfig?: string;
  kubeContext?: string;
  namespace?: string;
  podTemplate?: string;
  pullSecret?: string;
  managePullSecrets?: boolean;
  pendingTimeout?: string;
  dockerSidecarImage?: string;
  kataRuntimeClass?: string;
  kanikoImage?: string;
  kanikoCacheRepo?: string;
  kanikoFlag?: string[];
}

const DOCKER_MODES = ['auto', 'on', 'off'] as const;
const BUILDERS = ['docker', 'buildah', 'kaniko', 'none'] as const;

export function containerOptions(f: ContainerFlags, env: NodeJS.ProcessEnv = process.env): ContainerOptions {
  const o: ContainerOptions = {};
  const dockerHost = f.dockerHost ?? env.DOCKER_HOST;
  if (dockerHost) o.dockerHost = dockerHost;
  const docker = f.docker ?? env.WHARF_DOCKER;
  if (docker !== undefined) o.docker = oneOf('--docker (WHARF_DOCKER)', docker, DOCKER_MODES);
  const builder = f.builder ?? env.WHARF_BUILDER;
  if (builder !== undefined) o.builder = oneOf('--builder (WHARF_BUILDER)', builder, BUILDERS);
  const push = f.registryPush ?? env.WHARF_REGISTRY_PUSH;
  const pull = f.registryPull ?? env.WHARF_REGISTRY_PULL;
  const insecure = f.registryInsecure?.length ? f.registryInsecure : env.WHARF_REGISTRY_INSECURE?.split(',').filter(Boolean);
  if (push === undefined && (pull !== undefined || insecure?.length)) {
    throw new ApiError('invalid', '--registry-pull and --registry-insecure need --registry-push (WHARF_REGISTRY_PUSH): where built images go');
  }
  if (push !== undefined) {
    try {
      o.registry = parseRegistrySettings({ push, ...(pull !== undefined ? { pull } : {}), ...(insecure?.length ? { insecure } : {}) });
    } catch (e) {
      throw new ApiError('invalid', formatError(e));
    }
  }
  const config = f.dockerConfig ?? env.WHARF_DOCKER_CONFIG;
  if (config) o.dockerConfig = config;
  const k: KubernetesOptions = {};
  const mode = f.kubernetes ?? env.WHARF_KUBERNETES;
  if (mode !== undefined) k.mode = oneOf('--kubernetes (WHARF_KUBERNETES)', mode, DOCKER_MODES);
  const set = (key: 'kubeconfig' | 'context' | 'namespace' | 'podTemplate' | 'pullSecret', v: string | undefined): void => {
    if (v) k[key] = v;
  };
  set('kubeconfig', f.kubeconfig ?? env.WHARF_KUBECONFIG);
  set('context', f.kubeContext ?? env.WHARF_KUBE_CONTEXT);
  set('namespace', f.namespace ?? env.WHARF_NAMESPACE);
  set('podTemplate', f.podTemplate ?? env.WHARF_POD_TEMPLATE);
  set('pullSecret', f.pullSecret ?? env.WHARF_PULL_SECRET);
  if (f.managePullSecrets) k.managePullSecrets = true;
  if (f.pendingTimeout !== undefined) k.pendingTimeoutMs = duration('--pending-timeout', f.pendingTimeout);
  if (f.dockerSidecarImage) k.dockerSidecarImage = f.dockerSidecarImage;
  if (f.kataRuntimeClass) k.kataRuntimeClass = f.kataRuntimeClass;
  o.kubernetes = k;
  const flags = f.kanikoFlag ?? [];
  const bad = flags.find((x) => !/^--[a-z][a-z0-9-]*(=.*)?$/.test(x));
  if (bad !== undefined) throw new ApiError('invalid', `--kaniko-flag: expected an executor flag such as "--snapshot-mode=redo", got ${JSON.stringify(bad)}`);
  o.kaniko = {
    ...(f.kanikoImage ? { image: f.kanikoImage } : {}), ...(f.kanikoCacheRepo ? { cacheRepo: f.kanikoCacheRepo } : {}),
    ...(flags.length ? { extraFlags: flags } : {}),
  };
  return o;
}

/** The policy file named by the flag or WHARF_POLICY; undefined means the default policy. */
export async function loadPolicy(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<Policy | undefined> {
  const path = flag ?? env.WHARF_POLICY;
  if (!path) return undefined;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new ApiError('invalid', `--policy: cannot read ${path}: ${formatError(e)}`);
  }
  const r = parsePolicy(text);
  if (!r.ok) throw new ApiError('invalid', `policy ${path}: ${r.errors.map((e) => (e.path ? `${e.path}: ${e.message}` : e.message)).join('; ')}`);
  return r.policy;
}

function oneOf<T extends string>(flag: string, v: string, choices: readonly T[]): T {
  if ((choices as readonly string[]).includes(v)) return v as T;
  throw new ApiError('invalid', `${flag}: expected one of ${choices.join(', ')}, got ${JSON.stringify(v)}`);
}
