// Image references with Docker's normalization (distribution/reference): `busybox` is
// `docker.io/library/busybox:latest`; a first path component is a registry only when it looks
// like a host (has `.` or `:`, is `localhost`, or has upper case), so `wharf/app` is on Docker Hub.

export interface ImageRef {
  /** Host[:port] as users write it; Docker Hub is `docker.io`. */
  registry: string;
  /** Path inside the registry, e.g. `library/busybox`. */
  repository: string;
  tag?: string;
  digest?: string;
}

export type ImageRefPart = 'reference' | 'registry' | 'repository' | 'tag' | 'digest';

export class ImageRefError extends Error {
  override readonly name = 'ImageRefError';
  constructor(
    readonly part: ImageRefPart,
    readonly reference: string,
    readonly detail: string,
  ) {
    super(`invalid image reference ${JSON.stringify(reference)}: ${part} ${detail}`);
  }
}

export const DOCKER_HUB = 'docker.io';
/** Where Docker Hub's registry API answers. */
export const DOCKER_HUB_API_HOST = 'registry-1.docker.io';
/** The key Docker (and kubelet) use for Docker Hub in config.json `auths`. */
export const DOCKER_HUB_CREDENTIAL_KEY = 'https://index.docker.io/v1/';
const DOCKER_HUB_ALIASES = new Set([DOCKER_HUB, 'index.docker.io', DOCKER_HUB_API_HOST]);

const MAX_NAME = 255;
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
const SHA256 = /^sha256:[a-f0-9]{64}$/;
const HEX64 = /^[a-f0-9]{64}$/;
const LABEL = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const HOST = new RegExp(`^(?:${LABEL}(?:\\.${LABEL})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$`);

/** Whether `host` names Docker Hub (`docker.io`, `index.docker.io`, `registry-1.docker.io`). */
export function isDockerHub(host: string): boolean {
  return DOCKER_HUB_ALIASES.has(host.toLowerCase());
}

/** The host the registry API is reached at (Docker Hub's differs from its name). */
export function registryApiHost(registry: string): string {
  return isDockerHub(registry) ? DOCKER_HUB_API_HOST : registry;
}

function looksLikeRegistry(first: string): boolean {
  return first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase();
}

export function parseImageRef(text: string): ImageRef {
  const fail = (part: ImageRefPart, detail: string): never => {
    throw new ImageRefError(part, text, detail);
  };
  if (text === '') fail('reference', 'is empty');
  if (text !== text.trim()) fail('reference', 'has leading or trailing white space');

  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) fail('digest', `${JSON.stringify(digest)} is not algorithm:hex (e.g. sha256:<64 hex digits>)`);
    if (digest.startsWith('sha256:') && !SHA256.test(digest)) fail('digest', `${JSON.stringify(digest)} must be sha256: followed by 64 lower-case hex digits`);
  }

  let tag: string | undefined;
  const lastColon = rest.lastIndexOf(':');
  // A colon after the last slash separates the tag; one before it belongs to the registry's port.
  if (lastColon > rest.lastIndexOf('/')) {
    tag = rest.slice(lastColon + 1);
    rest = rest.slice(0, lastColon);
    if (!TAG.test(tag)) fail('tag', `${JSON.stringify(tag)} must be 1-128 of [A-Za-z0-9_.-], not starting with . or -`);
  }

  if (rest === '') fail('repository', 'is empty');
  const slash = rest.indexOf('/');
  let registry = DOCKER_HUB;
  let repository = rest;
  if (slash >= 0 && looksLikeRegistry(rest.slice(0, slash))) {
    registry = rest.slice(0, slash);
    repository = rest.slice(slash + 1);
    if (!HOST.test(registry)) fail('registry', `${JSON.stringify(registry)} is not a host[:port]`);
  }
  if (isDockerHub(registry)) {
    registry = DOCKER_HUB;
    if (!repository.includes('/')) repository = `library/${repository}`;
  }
  if (HEX64.test(rest)) fail('repository', 'cannot be a 64-digit hex string (that is an image id)');
  if (repository !== repository.toLowerCase()) fail('repository', `${JSON.stringify(repository)} must be lower case`);
  for (const c of repository.split('/')) {
    if (!COMPONENT.test(c)) {
      fail('repository', `component ${JSON.stringify(c)} of ${JSON.stringify(repository)} must be lower-case letters and digits, separated by ".", "_", "__" or "-"`);
    }
  }
  if (registry.length + 1 + repository.length > MAX_NAME) fail('repository', `name is longer than ${MAX_NAME} characters`);

  const ref: ImageRef = { registry, repository };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  else if (tag === undefined) ref.tag = 'latest';
  return ref;
}

/** The fully qualified form: `registry/repository[:tag][@digest]`. */
export function formatImageRef(ref: ImageRef): string {
  return `${ref.registry}/${ref.repository}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest !== undefined ? `@${ref.digest}` : ''}`;
}

/** What a manifest request names: the digest when there is one (it pins the content), else the tag. */
export function manifestReference(ref: ImageRef): string {
  return ref.digest ?? ref.tag ?? 'latest';
}
