// The kubelet's image manager on the Docker engine: the pull policy, the credentials of the pod's
// imagePullSecrets (tried one by one, as the kubelet's keyring does), the runtime's error text,
// and the names the container status reports. Only loopback registries are ever contacted.
import type { DockerEngine } from '../../../src/docker/engine.js';
import { EngineError } from '../../../src/docker/errors.js';
import { jsonLines } from '../../../src/docker/streams.js';
import type { Pod, Secret } from '../types.js';
import { isLoopbackRegistry, parseImage, qualified, qualifiedDigest, withDefaultTag, type ImageName } from './image-ref.js';

export interface ImageFault {
  match: RegExp;
  message?: string;
}

export type ImageResult =
  | { ok: RuntimeImage }
  | { waiting: { reason: 'ErrImagePull' | 'ErrImageNeverPull' | 'InvalidImageName'; message: string } };

export interface Credentials {
  username: string;
  password: string;
}

/** The image as the container status names it, and the user it runs as by default. */
export interface RuntimeImage {
  image: string;
  imageID: string;
  user: string;
}

interface ImageInspect {
  Id: string;
  RepoDigests?: string[] | null;
  Config?: { User?: string } | null;
}

const PULL_TIMEOUT_MS = 5 * 60_000;

export async function ensureImage(engine: DockerEngine, spec: { image: string; policy: string | undefined }, creds: Credentials[], faults: ImageFault[], signal: AbortSignal): Promise<ImageResult> {
  const name = parseImage(spec.image);
  if (!name) {
    return { waiting: { reason: 'InvalidImageName', message: `Failed to apply default image tag "${spec.image}": couldn't parse image name "${spec.image}": invalid reference format` } };
  }
  const ref = withDefaultTag(spec.image);
  const policy = spec.policy ?? (name.digest === undefined && (name.tag ?? 'latest') === 'latest' ? 'Always' : 'IfNotPresent');
  const present = await inspectImage(engine, ref);
  if (policy === 'Never' && !present) {
    return { waiting: { reason: 'ErrImageNeverPull', message: `Container image "${ref}" is not present with pull policy of Never` } };
  }
  if (present && policy !== 'Always') return { ok: runtimeNames(name, present) };

  const fault = faults.find((f) => f.match.test(spec.image));
  if (fault) {
    const q = qualified(name);
    return { waiting: { reason: 'ErrImagePull', message: fault.message ?? `rpc error: code = NotFound desc = failed to pull and unpack image "${q}": failed to resolve reference "${q}": ${q}: not found` } };
  }
  if (!isLoopbackRegistry(name.registry)) {
    return { waiting: { reason: 'ErrImagePull', message: `rpc error: code = Unknown desc = the k8s simulator does not pull from ${name.registry} ("${ref}"): only registries on 127.0.0.1 or localhost may be contacted in tests` } };
  }
  const errors: string[] = [];
  for (const c of creds.length > 0 ? creds : [undefined]) {
    const err = await pull(engine, name, c, signal);
    if (err === undefined) {
      const pulled = await inspectImage(engine, ref);
      if (pulled) return { ok: runtimeNames(name, pulled) };
      errors.push(`rpc error: code = Unknown desc = the image ${ref} is not present after its pull`);
    } else errors.push(`rpc error: code = Unknown desc = ${err}`);
  }
  // utilerrors.NewAggregate: one error is itself, several are "[e1, e2]".
  return { waiting: { reason: 'ErrImagePull', message: errors.length === 1 ? (errors[0] ?? '') : `[${errors.join(', ')}]` } };
}

/** The pull's failure as the Docker client prints it, or undefined when it succeeded. */
async function pull(engine: DockerEngine, name: ImageName, creds: Credentials | undefined, signal: AbortSignal): Promise<string | undefined> {
  const headers: Record<string, string> = {};
  if (creds) {
    const json = JSON.stringify({ username: creds.username, password: creds.password, serveraddress: name.registry });
    headers['X-Registry-Auth'] = Buffer.from(json).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
  }
  try {
    const res = await engine.stream('POST', '/images/create', {
      query: { fromImage: `${name.registry}/${name.repository}`, tag: name.digest ?? name.tag ?? 'latest' },
      headers, signal, timeoutMs: PULL_TIMEOUT_MS,
    });
    for await (const progress of jsonLines(res)) void progress; // a failure comes as the last line
    return undefined;
  } catch (e) {
    if (!(e instanceof EngineError)) throw e;
    return e.status === 200 ? e.message : `Error response from daemon: ${e.message}`;
  }
}

async function inspectImage(engine: DockerEngine, ref: string): Promise<ImageInspect | undefined> {
  try {
    return await engine.request<ImageInspect>('GET', `/images/${ref}/json`);
  } catch (e) {
    if (e instanceof EngineError && e.status === 404) return undefined;
    throw e;
  }
}

function runtimeNames(name: ImageName, img: ImageInspect): RuntimeImage {
  const image = qualified(name);
  const repo = `${name.registry}/${name.repository}@`;
  const digests = (img.RepoDigests ?? []).map(qualifiedDigest);
  // Only a digest of the image's own repository: other names the engine knows for the same
  // image (pushed elsewhere meanwhile) say nothing of where this one came from.
  return { image, imageID: digests.find((d) => d.startsWith(repo)) ?? img.Id, user: img.Config?.User ?? '' };
}

/** The credentials of the pod's imagePullSecrets that apply to this image, in order. */
export function pullCredentials(pod: Pod, image: string, getSecret: (ns: string, name: string) => Secret | undefined): Credentials[] {
  const name = parseImage(image);
  if (!name) return [];
  const out: Credentials[] = [];
  for (const ref of pod.spec?.imagePullSecrets ?? []) {
    const secret = ref.name ? getSecret(pod.metadata?.namespace ?? 'default', ref.name) : undefined;
    if (!secret) continue; // the kubelet warns and pulls without it
    for (const [key, entry] of Object.entries(dockerAuths(secret))) {
      if (!keyMatches(key, name)) continue;
      const c = entryCredentials(entry);
      if (c) out.push(c);
    }
  }
  return out;
}

type AuthEntry = { auth?: string; username?: string; password?: string };

function dockerAuths(secret: Secret): Record<string, AuthEntry> {
  const raw = (key: string): string | undefined => {
    const d = secret.data?.[key];
    if (d !== undefined) return Buffer.from(d, 'base64').toString('utf8');
    return secret.stringData?.[key];
  };
  try {
    const cfgjson = raw('.dockerconfigjson');
    if (cfgjson !== undefined) return (JSON.parse(cfgjson) as { auths?: Record<string, AuthEntry> }).auths ?? {};
    const cfg = raw('.dockercfg');
    if (cfg !== undefined) return JSON.parse(cfg) as Record<string, AuthEntry>;
  } catch {
    // the kubelet ignores a pull secret it cannot parse
  }
  return {};
}

function entryCredentials(e: AuthEntry): Credentials | undefined {
  if (e.username !== undefined && e.password !== undefined) return { username: e.username, password: e.password };
  if (e.auth) {
    const text = Buffer.from(e.auth, 'base64').toString('utf8');
    const i = text.indexOf(':');
    if (i > 0) return { username: text.slice(0, i), password: text.slice(i + 1) };
  }
  return undefined;
}

/** credentialprovider's URL matching: same host (and port), the key's path a prefix of the repository. */
function keyMatches(key: string, name: ImageName): boolean {
  let k = key.replace(/^https?:\/\//, '');
  if (k === 'index.docker.io/v1/' || k === 'index.docker.io' || k === 'registry-1.docker.io') k = 'docker.io';
  const slash = k.indexOf('/');
  const host = slash >= 0 ? k.slice(0, slash) : k;
  const path = slash >= 0 ? k.slice(slash + 1).replace(/\/+$/, '') : '';
  if (host !== name.registry) return false;
  return path === '' || path === 'v1' || path === 'v2' || name.repository === path || name.repository.startsWith(`${path}/`);
}
