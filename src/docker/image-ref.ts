// Image references the way Docker reads them: which registry host serves them (for credentials),
// and the name/tag split that POST /images/create wants.

export interface ImageRef {
  /** Registry host as credentials are keyed: "docker.io" for Docker Hub names. */
  registry: string;
  /** fromImage for POST /images/create: the name without tag or digest. */
  name: string;
  /** Tag or digest for the `tag` parameter; "latest" when the reference has neither. */
  tag: string;
}

export class ImageRefError extends Error {
  override readonly name = 'ImageRefError';
}

const REF_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?::[0-9]+)?(?:\/[a-zA-Z0-9_.-]+)*(?::[\w][\w.-]{0,127})?(?:@[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-fA-F0-9]{32,})?$/i;

export function parseImageRef(ref: string): ImageRef {
  if (!REF_RE.test(ref)) throw new ImageRefError(`invalid image reference ${JSON.stringify(ref)}: expected [host[:port]/]name[:tag][@digest]`);
  let rest = ref;
  let tag = 'latest';
  const at = rest.indexOf('@');
  if (at >= 0) {
    tag = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  const slash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > slash) {
    if (at < 0) tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon); // name:tag@digest: the digest wins, as in Docker
  }
  const first = rest.split('/')[0] ?? '';
  const hasHost = rest.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  return { registry: hasHost ? first : 'docker.io', name: rest, tag };
}

/**
 * The X-Registry-Auth header value: the JSON Docker expects in URL-safe base64 *with* padding
 * (the engine decodes it with Go's base64.URLEncoding, which refuses it unpadded and then
 * pulls without credentials).
 */
export function registryAuthHeader(creds: { username: string; password: string }, serveraddress: string): string {
  const json = JSON.stringify({ username: creds.username, password: creds.password, serveraddress });
  return Buffer.from(json).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}
