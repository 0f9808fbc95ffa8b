// Registry credentials: where they come from (Docker's config.json, Wharf's own config) and the
// two wire forms other parts need (a dockerconfigjson pull secret, Docker Engine's
// X-Registry-Auth). Every object holding a password prints and serializes it redacted.
import { readFile } from 'node:fs/promises';
import { inspect } from 'node:util';
import { DOCKER_HUB, DOCKER_HUB_CREDENTIAL_KEY, isDockerHub } from './image-ref.js';

export interface RegistryCredentials {
  readonly username: string;
  readonly password: string;
}

export interface CredentialStore {
  /** Credentials for a registry host (`localhost:5000`, `docker.io`, …), if any. */
  get(registryHost: string): RegistryCredentials | undefined;
}

export class CredentialsError extends Error {
  override readonly name = 'CredentialsError';
}

const REDACTED = '<redacted>';

/**
 * A credentials object whose password never shows: JSON.stringify, String() and util.inspect see
 * `<redacted>`; the fields themselves stay plain and readable.
 */
export function registryCredentials(username: string, password: string): RegistryCredentials {
  const shown = { username, password: REDACTED };
  const creds = { username, password };
  Object.defineProperties(creds, {
    toJSON: { value: () => shown },
    toString: { value: () => `RegistryCredentials(${username})` },
    [inspect.custom]: { value: () => shown },
  });
  return Object.freeze(creds);
}

/**
 * The host a registry address names, the way Docker compares config.json keys: scheme and path
 * dropped (`https://host:5000/v1/` → `host:5000`), lower case, every Docker Hub alias → `docker.io`.
 */
export function registryHostKey(address: string): string {
  const host = (address.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').split('/')[0] ?? '').toLowerCase();
  return isDockerHub(host) ? DOCKER_HUB : host;
}

/** The config.json `auths` key (and X-Registry-Auth serveraddress) for a registry host. */
export function credentialKey(registryHost: string): string {
  const host = registryHostKey(registryHost);
  return host === DOCKER_HUB ? DOCKER_HUB_CREDENTIAL_KEY : host;
}

/** Base class for stores: keyed by registryHostKey, redacted when printed. */
abstract class KeyedStore implements CredentialStore {
  readonly #byHost = new Map<string, RegistryCredentials>();

  protected put(address: string, creds: RegistryCredentials, replace: boolean): void {
    const key = registryHostKey(address);
    if (replace || !this.#byHost.has(key)) this.#byHost.set(key, registryCredentials(creds.username, creds.password));
  }

  get(registryHost: string): RegistryCredentials | undefined {
    return this.#byHost.get(registryHostKey(registryHost));
  }

  /** Hosts that have credentials (no secrets). */
  hosts(): string[] {
    return [...this.#byHost.keys()];
  }

  toJSON(): { type: string; hosts: string[] } {
    return { type: this.constructor.name, hosts: this.hosts() };
  }

  toString(): string {
    return `${this.constructor.name}(${this.hosts().join(', ')})`;
  }

  [inspect.custom](): { type: string; hosts: string[] } {
    return this.toJSON();
  }
}

/** Credentials from a plain map of host → {username, password} (Wharf's own config). */
export class MapCredentialStore extends KeyedStore {
  constructor(entries: Record<string, RegistryCredentials> | Iterable<readonly [string, RegistryCredentials]>) {
    super();
    const list = Symbol.iterator in entries ? [...entries] : Object.entries(entries);
    for (const [host, creds] of list) this.put(host, creds, true);
  }
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Credentials from a Docker config.json `auths` map. Keys may be `host`, `host:port`,
 * `https://host/v1/` or `http://host`; an entry has `auth` (base64 `user:password`) or
 * `username` + `password`. An exact key wins over one that only normalizes to the same host.
 * Credential helpers (`credsStore`, `credHelpers`) need external programs and are not run; the
 * hosts they would have served are listed in `unsupportedHelpers` so callers can say so.
 */
export class DockerConfigCredentialStore extends KeyedStore {
  readonly unsupportedHelpers: string[] = [];

  private constructor() {
    super();
  }

  /** `source` names the file in errors (the content never appears in them). */
  static fromJson(text: string, source = 'docker config.json'): DockerConfigCredentialStore {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      throw new CredentialsError(`${source} is not valid JSON`);
    }
    if (!isRecord(doc)) throw new CredentialsError(`${source} must hold a JSON object`);
    const store = new DockerConfigCredentialStore();
    const auths = doc['auths'] ?? {};
    if (!isRecord(auths)) throw new CredentialsError(`${source}: "auths" must be an object of registry → credentials`);
    const entries = Object.entries(auths);
    // Exact host keys first, so that they win over URL forms of the same host.
    entries.sort(([a], [b]) => Number(registryHostKey(a) !== a) - Number(registryHostKey(b) !== b));
    for (const [key, entry] of entries) {
      const creds = parseAuthEntry(key, entry, source);
      if (creds) store.put(key, creds, false);
    }
    if (typeof doc['credsStore'] === 'string') store.unsupportedHelpers.push(`credsStore ${doc['credsStore']}`);
    if (isRecord(doc['credHelpers'])) {
      for (const host of Object.keys(doc['credHelpers'])) store.unsupportedHelpers.push(`credHelpers ${host}`);
    }
    return store;
  }

  static async fromFile(path: string): Promise<DockerConfigCredentialStore> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      throw new CredentialsError(`cannot read docker config ${path}${typeof code === 'string' ? ` (${code})` : ''}`);
    }
    return DockerConfigCredentialStore.fromJson(text, path);
  }
}

function parseAuthEntry(key: string, entry: unknown, source: string): RegistryCredentials | undefined {
  const where = `${source}: auths[${JSON.stringify(key)}]`;
  if (!isRecord(entry)) throw new CredentialsError(`${where} must be an object`);
  const auth = entry['auth'];
  if (typeof auth === 'string' && auth.trim() !== '') {
    const b64 = auth.trim();
    const decoded = BASE64.test(b64) ? Buffer.from(b64, 'base64').toString('utf8') : '';
    const colon = decoded.indexOf(':');
    if (colon <= 0) throw new CredentialsError(`${where}.auth must be base64 of "username:password"`);
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  const { username, password } = entry;
  if (typeof username === 'string' && username !== '' && typeof password === 'string') return { username, password };
  // Empty entries are what `docker login` leaves when a credential helper holds the secret.
  return undefined;
}

/**
 * The text of a `.dockerconfigjson` (a Kubernetes pull secret): `{"auths":{key:{"auth":…}}}`,
 * with Docker Hub under `https://index.docker.io/v1/` as kubelet expects.
 */
export function dockerConfigJson(
  entries: Record<string, RegistryCredentials> | Iterable<readonly [string, RegistryCredentials]>,
): string {
  const auths: Record<string, { auth: string }> = {};
  const list = Symbol.iterator in entries ? [...entries] : Object.entries(entries);
  for (const [host, { username, password }] of list) {
    const key = credentialKey(host);
    if (key === '') throw new CredentialsError('dockerConfigJson: a registry host is empty');
    if (key in auths) throw new CredentialsError(`dockerConfigJson: two entries for registry ${key}`);
    if (username.includes(':')) throw new CredentialsError(`dockerConfigJson: the username for ${key} contains ":"`);
    auths[key] = { auth: Buffer.from(`${username}:${password}`, 'utf8').toString('base64') };
  }
  return JSON.stringify({ auths });
}

/**
 * The value of Docker Engine's `X-Registry-Auth` header: base64url (padded, as Go's URLEncoding)
 * of `{"username","password","serveraddress"}`.
 */
export function registryAuthHeader(creds: RegistryCredentials, serverAddress: string): string {
  const json = JSON.stringify({ username: creds.username, password: creds.password, serveraddress: credentialKey(serverAddress) });
  return Buffer.from(json, 'utf8').toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}
