// The OCI distribution client Wharf needs: does a manifest exist, and what is its digest. Plain
// fetch; http for loopback and listed insecure hosts, https otherwise.
import { createHash } from 'node:crypto';
import { inspect } from 'node:util';
import { Authenticator, secrets, type AuthRequest } from './auth.js';
import type { CredentialStore } from './credentials.js';
import { RegistryError, remoteMessage, type RegistryErrorKind } from './errors.js';
import { registryBaseUrl } from './hosts.js';
import { discard, readBytes, readText, send, type SendOptions } from './http.js';
import { formatImageRef, manifestReference, parseImageRef, registryApiHost, type ImageRef } from './image-ref.js';

/** Every manifest form Wharf's builders produce: OCI index and manifest, Docker list and v2. */
export const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-f0-9]{32,}$/;

export interface RegistryClientOptions {
  credentials?: CredentialStore;
  /** Hosts (host or host:port) reached over plain http besides loopback ones. */
  insecure?: readonly string[];
  /** Per request, connection to last byte; default 30 s. */
  timeoutMs?: number;
  /** Clock for token expiry (tests move it). */
  now?: () => number;
}

export interface RequestOptions {
  signal?: AbortSignal;
}

export type ManifestStatus = { exists: true; digest: string } | { exists: false };

interface Exchange {
  method: string;
  res: Response;
  url: string;
  auth: string | undefined;
}

export class RegistryClient {
  readonly #credentials: CredentialStore | undefined;
  readonly #insecure: readonly string[];
  readonly #timeoutMs: number;
  readonly #auth: Authenticator;

  constructor(opts: RegistryClientOptions = {}) {
    this.#credentials = opts.credentials;
    this.#insecure = [...(opts.insecure ?? [])];
    this.#timeoutMs = opts.timeoutMs ?? 30_000;
    this.#auth = new Authenticator({ credentials: opts.credentials, insecure: this.#insecure, now: opts.now ?? Date.now });
  }

  /** HEAD on the manifest; its digest from Docker-Content-Digest (or the body's sha256 when absent). */
  async manifestExists(ref: ImageRef | string, opts: RequestOptions = {}): Promise<ManifestStatus> {
    const r = typeof ref === 'string' ? parseImageRef(ref) : ref;
    const send: SendOptions = { timeoutMs: this.#timeoutMs, signal: opts.signal };
    const ex = await this.#manifest(r, 'HEAD', send);
    if (ex.res.status === 404) {
      await discard(ex.res);
      return { exists: false };
    }
    if (!ex.res.ok) throw await this.#failure(r, ex, send);
    await discard(ex.res);
    const header = ex.res.headers.get('docker-content-digest');
    if (header !== null) {
      if (!DIGEST.test(header)) throw this.#error(r, 'protocol', `the manifest's Docker-Content-Digest ${JSON.stringify(header.slice(0, 100))} is not a digest`);
      return { exists: true, digest: header };
    }
    return { exists: true, digest: await this.#digestFromBody(r, send) };
  }

  /** The manifest's digest; a RegistryError of kind `not_found` when it does not exist. */
  async resolveDigest(ref: ImageRef | string, opts: RequestOptions = {}): Promise<string> {
    const r = typeof ref === 'string' ? parseImageRef(ref) : ref;
    const status = await this.manifestExists(r, opts);
    if (status.exists) return status.digest;
    // HEAD has no body: ask again with GET for the registry's own words (manifest or name unknown).
    const send: SendOptions = { timeoutMs: this.#timeoutMs, signal: opts.signal };
    const ex = await this.#manifest(r, 'GET', send);
    if (ex.res.ok) {
      await discard(ex.res);
      throw this.#error(r, 'protocol', `manifest ${formatImageRef(r)} was reported missing, then found`);
    }
    throw await this.#failure(r, ex, send);
  }

  async #digestFromBody(r: ImageRef, send: SendOptions): Promise<string> {
    const ex = await this.#manifest(r, 'GET', send);
    if (!ex.res.ok) throw await this.#failure(r, ex, send);
    const body = await readBytes(ex.res, ex.url, send, r);
    return `sha256:${createHash('sha256').update(body).digest('hex')}`;
  }

  #manifest(r: ImageRef, method: 'HEAD' | 'GET', send: SendOptions): Promise<Exchange> {
    return this.#request(r, method, `/v2/${r.repository}/manifests/${encodeURIComponent(manifestReference(r))}`, { accept: MANIFEST_ACCEPT }, send);
  }

  /** One request with authentication: up-front when known, else anonymous, then one retry on 401. */
  async #request(r: ImageRef, method: string, path: string, headers: Record<string, string>, opts: SendOptions): Promise<Exchange> {
    const url = `${registryBaseUrl(registryApiHost(r.registry), this.#insecure)}${path}`;
    const req: AuthRequest = { registry: r.registry, repository: r.repository, scope: `repository:${r.repository}:pull` };
    const exchange = async (auth: string | undefined): Promise<Exchange> => {
      const res = await send(url, { method, headers: auth ? { ...headers, authorization: auth } : headers }, opts, r);
      return { method, res, url, auth };
    };
    const first = await exchange(this.#auth.upfront(req));
    if (first.res.status !== 401) return first;
    const retry = await this.#auth.answer(req, first.res.headers.get('www-authenticate'), first.auth, opts);
    if (retry === undefined) return first;
    await discard(first.res);
    return exchange(retry);
  }

  /** The error for a final non-success answer, quoting the registry's error body. */
  async #failure(r: ImageRef, ex: Exchange, opts: SendOptions): Promise<RegistryError> {
    let res = ex.res;
    if (ex.method === 'HEAD') {
      // A HEAD answer has no body; the same request as GET carries the registry's error.
      await discard(res);
      res = await send(ex.url, { method: 'GET', headers: { accept: MANIFEST_ACCEPT, ...(ex.auth ? { authorization: ex.auth } : {}) } }, opts, r);
    }
    const text = await readText(res, ex.url, opts, r, 64 << 10).catch((e: unknown) => {
      if (opts.signal?.aborted) throw e;
      return '';
    });
    const status = ex.res.status;
    const kind: RegistryErrorKind =
      status === 401 ? 'unauthorized' : status === 403 ? 'denied' : status === 404 ? 'not_found' : [502, 503, 504].includes(status) ? 'unreachable' : 'protocol';
    const creds = this.#credentials?.get(r.registry);
    const summary = {
      unauthorized: creds ? `the registry refused the credentials of user ${JSON.stringify(creds.username)}` : 'the registry requires authentication and no credentials are configured for it',
      denied: 'access denied',
      not_found: r.digest !== undefined ? `no manifest ${r.digest}` : `no manifest for tag ${r.tag ?? 'latest'}`,
      unreachable: 'the registry is unavailable',
      protocol: 'unexpected answer from the registry',
    }[kind];
    const remote = remoteMessage(text, secrets(creds));
    return new RegistryError({ registry: r.registry, repository: r.repository, kind, summary, status, ...(remote !== undefined ? { remote } : {}) });
  }

  #error(r: ImageRef, kind: RegistryErrorKind, summary: string): RegistryError {
    return new RegistryError({ registry: r.registry, repository: r.repository, kind, summary });
  }

  /** No credentials or tokens: a store of unknown make might print its secrets, so it is not shown. */
  toJSON(): { type: string; insecure: readonly string[]; credentials: boolean; auth: unknown } {
    return { type: 'RegistryClient', insecure: this.#insecure, credentials: this.#credentials !== undefined, auth: this.#auth.toJSON() };
  }

  toString(): string {
    return 'RegistryClient';
  }

  [inspect.custom](): unknown {
    return this.toJSON();
  }
}
