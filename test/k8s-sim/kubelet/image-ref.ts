// Image references the way the kubelet and the runtime name them: the default tag applied
// (`busybox` → `busybox:latest`), and the runtime's fully qualified form
// (`docker.io/library/busybox:latest`) that container statuses report.

export interface ImageName {
  /** docker.io for Docker Hub. */
  registry: string;
  /** With library/ for Docker Hub's official images. */
  repository: string;
  tag?: string;
  digest?: string;
}

const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const PATH_RE = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*$`);
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;
const DOMAIN_RE = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:]+\])(?::\d+)?$/;

/** undefined when the reference is not valid (the kubelet's InvalidImageName). */
export function parseImage(ref: string): ImageName | undefined {
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST_RE.test(digest)) return undefined;
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG_RE.test(tag)) return undefined;
  }
  const slash = rest.indexOf('/');
  const first = slash >= 0 ? rest.slice(0, slash) : '';
  // The first component names a registry when it looks like a host: a dot, a port, or localhost.
  const isDomain = slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase());
  let registry = 'docker.io';
  let repository = rest;
  if (isDomain) {
    if (!DOMAIN_RE.test(first)) return undefined;
    registry = first;
    repository = rest.slice(slash + 1);
  }
  if (!PATH_RE.test(repository) || repository.length > 255) return undefined;
  if (registry === 'docker.io' && !repository.includes('/')) repository = `library/${repository}`;
  const out: ImageName = { registry, repository };
  if (tag !== undefined) out.tag = tag;
  if (digest !== undefined) out.digest = digest;
  return out;
}

/** The kubelet's applyDefaultImageTag: `:latest` when neither tag nor digest is given. */
export function withDefaultTag(ref: string): string {
  const n = parseImage(ref);
  return n && n.tag === undefined && n.digest === undefined ? `${ref}:latest` : ref;
}

/** The runtime's name for the image: docker.io/library/busybox:latest. */
export function qualified(n: ImageName): string {
  if (n.digest) return `${n.registry}/${n.repository}@${n.digest}`;
  return `${n.registry}/${n.repository}:${n.tag ?? 'latest'}`;
}

/** A RepoDigest as Docker writes it (`busybox@sha256:…`, `127.0.0.1:5000/x@sha256:…`), qualified. */
export function qualifiedDigest(repoDigest: string): string {
  const n = parseImage(repoDigest);
  return n ? qualified(n) : repoDigest;
}

/** Pulls may only reach registries on this machine's loopback. */
export function isLoopbackRegistry(registry: string): boolean {
  const host = registry.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
