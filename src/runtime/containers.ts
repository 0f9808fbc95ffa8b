// The container side of a Wharf process: the docker backend when an engine answers, and the
// image builder (docker or buildah) with the registry it pushes to. Made once, at startup, from
// explicit options; nothing here connects at import.
import { existsSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createDockerBackend } from '../backends/docker/index.js';
import type { Backend } from '../backends/types.js';
import { BuildahBuilder } from '../builders/buildah/builder.js';
import { DockerBuilder } from '../builders/docker/builder.js';
import { KanikoBuilder } from '../builders/kaniko/index.js';
import { ImageBuilds } from '../builders/images.js';
import { DockerConfigCredentialStore, imageRefs, RegistryClient, type CredentialStore, type RegistrySettings } from '../builders/registry/index.js';
import type { Builder } from '../builders/types.js';
import { formatError } from '../core/format-error.js';
import { DockerEngine } from '../docker/engine.js';
import type { Log } from '../core/log.js';
import { openKubernetes, type KubernetesOptions, type OpenedKubernetes } from './kubernetes.js';

export interface ContainerOptions {
  /** DOCKER_HOST form; default the environment's DOCKER_HOST, then the default socket. */
  dockerHost?: string;
  /** 'auto' (default): docker when the engine answers; 'on': fail when it does not; 'off'. */
  docker?: 'auto' | 'on' | 'off';
  /** Default: docker when the engine is there, else (with a registry) kaniko when kubernetes is, else buildah; else none. */
  builder?: 'docker' | 'buildah' | 'kaniko' | 'none';
  /** Where built images go (push) and how containers name them (pull). */
  registry?: RegistrySettings;
  /** A Docker config.json with registry credentials; default $DOCKER_CONFIG/config.json or ~/.docker/config.json when present. */
  dockerConfig?: string;
  kubernetes?: KubernetesOptions;
  /** Kaniko's image, a cache repository (`--cache=true --cache-repo`), extra executor flags. */
  kaniko?: { image?: string; cacheRepo?: string; extraFlags?: string[] };
}

/** Repository (under the registry prefix) that content-addressed builds are tagged in. */
export const BUILD_REPOSITORY = 'builds';

export interface Containers {
  backends: Backend[];
  images: ImageBuilds | undefined;
  /** What this process found and chose, for `wharf serve` to print: "docker: …", "builder: …". */
  notes: string[];
  close(): Promise<void>;
}

export class ContainerSetupError extends Error {
  override readonly name = 'ContainerSetupError';
}

/** `log`: where the backends and builders tell of trouble they recover from (default: their own stderr lines). */
export async function openContainers(home: string, instanceId: string, o: ContainerOptions = {}, log?: Log): Promise<Containers> {
  const reportAs = (component: string): { report?: (m: string) => void } => (log ? { report: (m) => log.warn(m, { component }) } : {});
  const notes: string[] = [];
  const credentials = await loadCredentials(o.dockerConfig, notes);
  const backends: Backend[] = [];
  let engine: DockerEngine | undefined;
  const close = async (): Promise<void> => {
    for (const b of backends) await b.close();
    engine?.close();
  };
  try {
    engine = await connectDocker(o, notes);
    if (engine) backends.push(createDockerBackend({ engine, instanceId, ...(credentials ? { credentials } : {}), ...reportAs('docker') }));
    const kubernetes = await openKubernetes(instanceId, o.kubernetes ?? {}, credentials, notes, reportAs('kubernetes').report);
    if (kubernetes) backends.push(kubernetes.backend);
    const builder = chooseBuilder({ home, instanceId, engine, kubernetes, credentials, ...reportAs('kaniko') }, o, notes);
    const registry = o.registry;
    const images = builder && new ImageBuilds({
      builder,
      refs: (tag) => registry ? imageRefs(registry, BUILD_REPOSITORY, tag) : { push: `wharf/${BUILD_REPOSITORY}:${tag}`, pull: `wharf/${BUILD_REPOSITORY}:${tag}` },
    });
    return { backends, images, notes, close };
  } catch (e) {
    await close();
    throw e;
  }
}

/** The engine when it answers (and docker is not off); with `--docker on`, its silence is an error. */
async function connectDocker(o: ContainerOptions, notes: string[]): Promise<DockerEngine | undefined> {
  const mode = o.docker ?? 'auto';
  if (mode === 'off') return undefined;
  const engine = new DockerEngine(o.dockerHost !== undefined ? { host: o.dockerHost } : {});
  try {
    await engine.ping({ timeoutMs: 2_000 });
    notes.push(`docker: engine at ${describeHost(o.dockerHost)}`);
    return engine;
  } catch (e) {
    engine.close();
    if (mode === 'on') throw new ContainerSetupError(`the docker backend was asked for, but ${formatError(e)}`);
    notes.push(`docker: not available (${formatError(e)})`);
    return undefined;
  }
}

interface Found {
  home: string;
  instanceId: string;
  engine: DockerEngine | undefined;
  kubernetes: OpenedKubernetes | undefined;
  credentials: CredentialStore | undefined;
  report?: (m: string) => void;
}

/** Default: docker with an engine; else Kaniko in the cluster, or buildah here, when images have a registry to go to. */
function chooseBuilder({ home, instanceId, engine, kubernetes, credentials, report }: Found, o: ContainerOptions, notes: string[]): Builder | undefined {
  const choice = o.builder ?? (engine ? 'docker' : !o.registry ? 'none' : kubernetes ? 'kaniko' : 'buildah');
  const registry = o.registry && {
    client: new RegistryClient({ ...(credentials ? { credentials } : {}), ...(o.registry.insecure ? { insecure: o.registry.insecure } : {}) }),
    ...(credentials ? { credentials } : {}),
    ...(o.registry.insecure ? { insecure: o.registry.insecure } : {}),
  };
  switch (choice) {
    case 'none':
      notes.push('builder: none (tasks with a build cannot start)');
      return undefined;
    case 'docker':
      if (!engine) throw new ContainerSetupError('the docker builder needs a Docker engine, and none answers');
      notes.push(`builder: docker${o.registry ? `, pushing to ${o.registry.push}` : ' (images stay in the engine)'}`);
      return new DockerBuilder({ engine, ...(registry ? { registry } : {}) });
    case 'kaniko':
      if (!kubernetes) throw new ContainerSetupError('the kaniko builder runs in the cluster: configure the kubernetes backend (--kubeconfig, or run in a pod)');
      if (!registry || !o.registry) throw new ContainerSetupError('the kaniko builder pushes to a registry: set --registry-push');
      notes.push(`builder: kaniko in namespace ${kubernetes.namespace}, pushing to ${o.registry.push}`);
      return new KanikoBuilder({
        kubeConfig: kubernetes.kubeConfig, namespace: kubernetes.namespace, instanceId, registry, ...(report ? { report } : {}),
        ...(o.kaniko?.image ? { image: o.kaniko.image } : {}), ...(o.kaniko?.cacheRepo ? { cacheRepo: o.kaniko.cacheRepo } : {}),
        ...(o.kaniko?.extraFlags?.length ? { extraFlags: o.kaniko.extraFlags } : {}),
        ...(o.kubernetes?.pendingTimeoutMs !== undefined ? { pendingTimeoutMs: o.kubernetes.pendingTimeoutMs } : {}),
      });
    case 'buildah': {
      if (!registry || !o.registry) throw new ContainerSetupError('the buildah builder pushes to a registry: set --registry-push');
      const root = join(home, 'buildah');
      mkdirSync(join(root, 'storage'), { recursive: true, mode: 0o700 });
      mkdirSync(join(root, 'run'), { recursive: true, mode: 0o700 });
      notes.push(`builder: buildah, pushing to ${o.registry.push}`);
      return new BuildahBuilder({ root: join(root, 'storage'), runroot: join(root, 'run'), registry });
    }
  }
}

async function loadCredentials(path: string | undefined, notes: string[]): Promise<CredentialStore | undefined> {
  const dir = process.env.DOCKER_CONFIG ?? join(homedir(), '.docker');
  const file = path ?? join(dir, 'config.json');
  if (path === undefined && !existsSync(file)) return undefined;
  const store = await DockerConfigCredentialStore.fromFile(file);
  notes.push(`registry credentials: ${file}`);
  if (store.unsupportedHelpers.length > 0) notes.push(`registry credentials: not used (they need helper programs): ${store.unsupportedHelpers.join(', ')}`);
  return store;
}

function describeHost(host: string | undefined): string {
  return host ?? process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
}
