// Registry authentication as Docker does it: anonymous first; a 401's WWW-Authenticate says how
// to retry — Basic with the host's credentials, or Bearer with a token from the realm (token
// service) for the challenge's scope. Once a registry's scheme is known, later requests send it
// up front; tokens are cached per (registry, scope) until they expire.
import { inspect } from 'node:util';
import type { CredentialStore, RegistryCredentials } from './credentials.js';
import { RegistryError, remoteMessage } from './errors.js';
import { isInsecure } from './hosts.js';
import { describeUrl, readText, send, type SendOptions, type Target } from './http.js';
import { parseWwwAuthenticate, type Challenge } from './www-authenticate.js';

/** Docker's default when a token service gives no `expires_in`. */
const DEFAULT_TOKEN_SECONDS = 60;

interface Token {
  value: string;
  /** When to stop using it: a little before it expires, so it does not lapse in flight. */
  refreshAt: number;
}

export interface AuthOptions {
  credentials: CredentialStore | undefined;
  insecure: readonly string[];
  now: () => number;
}

/** What a request is for: the target plus the pull scope its token needs. */
export interface AuthRequest extends Target {
  scope: string;
}

export class Authenticator {
  readonly #opts: AuthOptions;
  readonly #challenges = new Map<string, Challenge>();
  readonly #tokens = new Map<string, Token>();
  readonly #pending = new Map<string, Promise<Token>>();

  constructor(opts: AuthOptions) {
    this.#opts = opts;
  }

  /** The Authorization header to send before any 401, when this registry's scheme is known. */
  upfront(req: AuthRequest): string | undefined {
    const challenge = this.#challenges.get(req.registry);
    if (challenge?.scheme === 'basic') return basic(this.#opts.credentials?.get(req.registry));
    if (challenge?.scheme !== 'bearer') return undefined;
    const token = this.#tokens.get(tokenKey(req));
    if (token && this.#opts.now() < token.refreshAt) return `Bearer ${token.value}`;
    return undefined;
  }

  /**
   * The Authorization header to retry a 401 with, or undefined when no retry can help (no
   * usable challenge, no credentials for Basic, or Basic credentials already refused).
   * Token service failures throw RegistryErrors.
   */
  async answer(req: AuthRequest, wwwAuthenticate: string | null, sent: string | undefined, opts: SendOptions): Promise<string | undefined> {
    const challenges = parseWwwAuthenticate(wwwAuthenticate ?? '');
    const challenge = challenges.find((c) => c.scheme === 'bearer') ?? challenges.find((c) => c.scheme === 'basic');
    if (!challenge) return undefined;
    this.#challenges.set(req.registry, challenge);
    if (challenge.scheme === 'basic') {
      if (sent?.startsWith('Basic ')) return undefined;
      return basic(this.#opts.credentials?.get(req.registry));
    }
    const key = tokenKey(req);
    if (sent?.startsWith('Bearer ')) this.#tokens.delete(key);
    const token = await this.#token(req, challenge, opts);
    return `Bearer ${token.value}`;
  }

  /**
   * One token request per (registry, scope) at a time; concurrent callers share it. It runs
   * under the timeout only, so one caller's abort does not fail the others; each caller stops
   * waiting on its own signal.
   */
  #token(req: AuthRequest, challenge: Challenge, opts: SendOptions): Promise<Token> {
    const key = tokenKey(req);
    const cached = this.#tokens.get(key);
    if (cached && this.#opts.now() < cached.refreshAt) return Promise.resolve(cached);
    let pending = this.#pending.get(key);
    if (!pending) {
      pending = this.#fetchToken(req, challenge, { timeoutMs: opts.timeoutMs }).then(
        (t) => {
          this.#tokens.set(key, t);
          return t;
        },
      ).finally(() => this.#pending.delete(key));
      this.#pending.set(key, pending);
      // Waiters see its failure; this only keeps a failure nobody waits for from going unhandled.
      pending.catch(() => undefined);
    }
    return untilAborted(pending, opts.signal);
  }

  async #fetchToken(req: AuthRequest, challenge: Challenge, opts: SendOptions): Promise<Token> {
    const realm = challenge.params['realm'];
    const target = { registry: req.registry, repository: req.repository };
    let url: URL;
    try {
      url = new URL(realm ?? '');
      if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('not http(s)');
    } catch {
      throw new RegistryError({ ...target, kind: 'protocol', summary: `the Bearer challenge's realm ${JSON.stringify(realm ?? '')} is not an http(s) URL` });
    }
    const creds = this.#opts.credentials?.get(req.registry);
    if (creds && url.protocol === 'http:' && !isInsecure(url.host, this.#opts.insecure)) {
      throw new RegistryError({ ...target, kind: 'protocol', summary: `refusing to send credentials to token service ${describeUrl(url.href)} over plain http (list its host as insecure to allow it)` });
    }
    if (challenge.params['service'] !== undefined) url.searchParams.set('service', challenge.params['service']);
    url.searchParams.set('scope', challenge.params['scope'] ?? req.scope);
    if (creds) url.searchParams.set('account', creds.username);
    const headers: Record<string, string> = { accept: 'application/json' };
    const auth = basic(creds);
    if (auth) headers['authorization'] = auth;

    const started = this.#opts.now();
    const res = await send(url.href, { method: 'GET', headers }, opts, target);
    const peer = `token service ${describeUrl(url.href)}`;
    if (!res.ok) {
      const remote = remoteMessage(await readText(res, url.href, opts, target, 64 << 10).catch(() => ''), secrets(creds));
      const kind = res.status === 401 ? 'unauthorized' : res.status === 403 ? 'denied' : 'protocol';
      const who = creds ? `the credentials of user ${JSON.stringify(creds.username)}` : 'anonymous access';
      const summary = kind === 'protocol' ? `${peer} failed` : `${peer} refused ${who}`;
      throw new RegistryError({ ...target, kind, summary, status: res.status, ...(remote !== undefined ? { remote } : {}) });
    }
    let body: unknown;
    try {
      body = JSON.parse(await readText(res, url.href, opts, target, 1 << 20));
    } catch (e) {
      if (e instanceof RegistryError) throw e;
      throw new RegistryError({ ...target, kind: 'protocol', summary: `${peer} answered with something other than JSON` });
    }
    const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    const value = typeof b['token'] === 'string' && b['token'] !== '' ? b['token'] : b['access_token'];
    if (typeof value !== 'string' || value === '') {
      throw new RegistryError({ ...target, kind: 'protocol', summary: `${peer} answered without a token or access_token` });
    }
    const seconds = typeof b['expires_in'] === 'number' && b['expires_in'] > 0 ? b['expires_in'] : DEFAULT_TOKEN_SECONDS;
    const lifetime = seconds * 1000;
    return { value, refreshAt: started + lifetime - Math.min(10_000, lifetime / 4) };
  }

  toJSON(): { registries: string[]; tokens: number } {
    return { registries: [...this.#challenges.keys()], tokens: this.#tokens.size };
  }

  [inspect.custom](): unknown {
    return this.toJSON();
  }
}

function untilAborted<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function tokenKey(req: AuthRequest): string {
  return `${req.registry} ${req.scope}`;
}

function basic(creds: RegistryCredentials | undefined): string | undefined {
  return creds ? `Basic ${Buffer.from(`${creds.username}:${creds.password}`, 'utf8').toString('base64')}` : undefined;
}

/** Strings that must never appear in a message we build from a remote's words. */
export function secrets(creds: RegistryCredentials | undefined): string[] {
  return creds ? [creds.password, Buffer.from(`${creds.username}:${creds.password}`).toString('base64')] : [];
}
