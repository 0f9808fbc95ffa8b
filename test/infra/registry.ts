// Starts a real Debian docker-registry (distribution 2.8) on loopback for the tests, with Basic
// (htpasswd -B) or Bearer token auth. For tokens it runs a small token service itself: RS256 JWTs
// carrying an x5c chain of one self-signed certificate, the registry's rootcertbundle. Scopes are
// granted only for correct Basic credentials; anonymous callers get a token that grants nothing.
import { execFile, spawn } from 'node:child_process';
import { createHash, randomUUID, sign, X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stopChild } from '../helpers/stop-child.js';

const run = promisify(execFile);

export interface TestRegistryOptions {
  auth: 'htpasswd' | 'token';
  users: Record<string, string>;
  /** Token lifetime the token service announces (seconds); default 300. */
  tokenExpiresIn?: number;
  /** Token mode: repositories the token service refuses (403) even to correct credentials. */
  deny?: string[];
}

export interface TokenRequest {
  account: string | undefined;
  scopes: string[];
  granted: boolean;
}

export interface TestRegistry {
  host: string;
  /** The same registry under another name (`localhost:PORT`). */
  alias: string;
  auth: 'htpasswd' | 'token';
  /** Token mode: the token service's URL and every request it answered (no secrets). */
  realm: string | undefined;
  tokenRequests: TokenRequest[];
  stop(): Promise<void>;
}

const SERVICE = 'wharf-test-registry';
const ISSUER = 'wharf-test-issuer';
const READY_WITHIN_MS = 10_000;

export async function startRegistry(opts: TestRegistryOptions): Promise<TestRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'wharf-registry-'));
  let token: TokenService | undefined;
  try {
    let auth: string;
    if (opts.auth === 'htpasswd') {
      const lines = await Promise.all(Object.entries(opts.users).map(([user, pass]) => htpasswdLine(user, pass)));
      await writeFile(join(dir, 'htpasswd'), lines.join(''));
      auth = `  htpasswd:\n    realm: wharf-test\n    path: ${join(dir, 'htpasswd')}\n`;
    } else {
      token = await startTokenService(dir, opts.users, opts.tokenExpiresIn ?? 300, opts.deny ?? []);
      auth = `  token:\n    realm: ${token.realm}\n    service: ${SERVICE}\n    issuer: ${ISSUER}\n    rootcertbundle: ${join(dir, 'cert.pem')}\n`;
    }
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      try {
        const stopRegistry = await serve(dir, port, auth);
        const tokenService = token;
        return {
          host: `127.0.0.1:${port}`,
          alias: `localhost:${port}`,
          auth: opts.auth,
          realm: tokenService?.realm,
          tokenRequests: tokenService?.requests ?? [],
          stop: async () => {
            await stopRegistry();
            await tokenService?.close();
            await rm(dir, { recursive: true, force: true });
          },
        };
      } catch (e) {
        // Another process may take the port between our probe and the registry's bind.
        if (!(e instanceof Error && e.message.includes('address already in use')) || attempt >= 3) throw e;
      }
    }
  } catch (e) {
    await token?.close();
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
}

/** `htpasswd -iB` reads the password from stdin, so it never shows in a process list. */
async function htpasswdLine(user: string, pass: string): Promise<string> {
  const child = spawn('htpasswd', ['-niB', user], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
  child.stderr.setEncoding('utf8').on('data', (d: string) => { err += d; });
  child.stdin.end(pass);
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`htpasswd failed (${code}): ${err.trim()}`);
  return out.trim() + '\n';
}

async function freePort(): Promise<number> {
  const srv = createNetServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address() as AddressInfo;
  srv.close();
  await once(srv, 'close');
  return port;
}

/** Runs the registry until it answers GET /v2/; returns how to stop it. */
async function serve(dir: string, port: number, auth: string): Promise<() => Promise<void>> {
  const config = join(dir, `config-${port}.yml`);
  await writeFile(config, [
    'version: 0.1',
    'log:\n  level: warn\n  accesslog:\n    disabled: true',
    `storage:\n  filesystem:\n    rootdirectory: ${join(dir, 'data')}\n  delete:\n    enabled: true`,
    `http:\n  addr: 127.0.0.1:${port}\n  secret: ${randomUUID()}`,
    `auth:\n${auth}`,
  ].join('\n'));
  const child = spawn('/usr/bin/docker-registry', ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => { log = (log + d).slice(-16_384); });
  const stop = (): Promise<void> => stopChild(child, 5_000);
  const deadline = Date.now() + READY_WITHIN_MS;
  let delay = 10;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`docker-registry exited (${child.exitCode ?? child.signalCode}) before answering: ${log.trim()}`);
    }
    // Any HTTP answer (401 without credentials) means it is serving.
    const answered = await fetch(`http://127.0.0.1:${port}/v2/`, { signal: AbortSignal.timeout(1000) }).then(
      async (r) => (await r.body?.cancel(), true),
      () => false,
    );
    if (answered) return stop;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`docker-registry did not answer on 127.0.0.1:${port} within ${READY_WITHIN_MS} ms: ${log.trim()}`);
    }
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 200);
  }
}

interface TokenService {
  realm: string;
  requests: TokenRequest[];
  close(): Promise<void>;
}

const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');

async function startTokenService(dir: string, users: Record<string, string>, expiresIn: number, deny: string[]): Promise<TokenService> {
  const keyPath = join(dir, 'key.pem');
  const certPath = join(dir, 'cert.pem');
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyPath, '-out', certPath, '-days', '2', '-subj', '/CN=wharf-test-token-issuer'], { timeout: 30_000 });
  const key = await readFile(keyPath, 'utf8');
  const x5c = new X509Certificate(await readFile(certPath)).raw.toString('base64');
  const requests: TokenRequest[] = [];

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const reply = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (url.pathname !== '/token') return reply(404, { details: 'not found' });
    if (url.searchParams.get('service') !== SERVICE) return reply(400, { details: `unknown service ${url.searchParams.get('service')}` });
    const scopes = url.searchParams.getAll('scope');
    let account: string | undefined;
    const header = req.headers.authorization;
    if (header?.startsWith('Basic ')) {
      const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      const user = decoded.slice(0, colon);
      if (colon < 0 || users[user] !== decoded.slice(colon + 1)) {
        requests.push({ account: user, scopes, granted: false });
        return reply(401, { details: 'incorrect username or password' });
      }
      account = user;
    }
    const wanted = scopes.map((s) => {
      const first = s.indexOf(':');
      const last = s.lastIndexOf(':');
      return { type: s.slice(0, first), name: s.slice(first + 1, last), actions: s.slice(last + 1).split(',') };
    });
    if (account !== undefined && wanted.some((w) => deny.includes(w.name))) {
      requests.push({ account, scopes, granted: false });
      return reply(403, { details: 'requested access to the resource is denied' });
    }
    requests.push({ account, scopes, granted: account !== undefined });
    const access = account === undefined ? [] : wanted;
    const now = Math.floor(Date.now() / 1000);
    const head = b64url(JSON.stringify({ typ: 'JWT', alg: 'RS256', x5c: [x5c] }));
    const claims = b64url(JSON.stringify({ iss: ISSUER, sub: account ?? '', aud: SERVICE, exp: now + expiresIn, nbf: now - 1, iat: now, jti: randomUUID(), access }));
    const signature = b64url(sign('sha256', Buffer.from(`${head}.${claims}`), key));
    const token = `${head}.${claims}.${signature}`;
    reply(200, { token, access_token: token, expires_in: expiresIn, issued_at: new Date(now * 1000).toISOString() });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

export interface PushedManifest {
  /** sha256 of the manifest bytes as uploaded: what the registry must report. */
  digest: string;
  mediaType: string;
}

/**
 * Uploads a tiny image (config blob, one layer, OCI manifest) under `repo:tag` with plain fetch,
 * so registry tests need no Docker engine. `index` wraps it in an OCI index (pushed by digest)
 * and tags the index instead. `host` picks which name of the registry to push through.
 */
export async function pushTestManifest(
  registry: TestRegistry,
  repo: string,
  tag: string,
  creds: { username: string; password: string },
  opts: { host?: string; index?: boolean } = {},
): Promise<PushedManifest> {
  const base = `http://${opts.host ?? registry.host}/v2/${repo}`;
  const authorization = await pushAuth(registry, repo, creds);
  const call = async (method: string, url: string, body?: Buffer, contentType?: string): Promise<Response> => {
    const headers: Record<string, string> = { authorization };
    if (contentType) headers['content-type'] = contentType;
    const res = await fetch(url, { method, headers, ...(body ? { body } : {}), signal: AbortSignal.timeout(10_000) });
    if (res.status >= 300) throw new Error(`${method} ${new URL(url).pathname} → ${res.status}: ${await res.text()}`);
    return res;
  };
  const blob = async (content: Buffer): Promise<{ digest: string; size: number }> => {
    const digest = sha256(content);
    const started = await call('POST', `${base}/blobs/uploads/`);
    await started.body?.cancel();
    const location = new URL(started.headers.get('location') ?? '', base);
    location.searchParams.set('digest', digest);
    await (await call('PUT', location.href, content, 'application/octet-stream')).body?.cancel();
    return { digest, size: content.length };
  };
  const putManifest = async (ref: string, doc: unknown, mediaType: string): Promise<string> => {
    const bytes = Buffer.from(JSON.stringify(doc));
    const res = await call('PUT', `${base}/manifests/${ref}`, bytes, mediaType);
    await res.body?.cancel();
    const digest = sha256(bytes);
    if (res.headers.get('docker-content-digest') !== digest) throw new Error(`registry stored ${repo}:${ref} under another digest`);
    return digest;
  };

  const config = await blob(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Labels: { 'wharf.test': `${repo}:${tag}` } }, rootfs: { type: 'layers', diff_ids: [] } })));
  const layer = await blob(Buffer.from(`layer of ${repo}:${tag}`));
  const manifestType = 'application/vnd.oci.image.manifest.v1+json';
  const manifest = {
    schemaVersion: 2,
    mediaType: manifestType,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layer }],
  };
  if (!opts.index) return { digest: await putManifest(tag, manifest, manifestType), mediaType: manifestType };
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  const inner = await putManifest(sha256(manifestBytes), manifest, manifestType);
  const indexType = 'application/vnd.oci.image.index.v1+json';
  const index = { schemaVersion: 2, mediaType: indexType, manifests: [{ mediaType: manifestType, digest: inner, size: manifestBytes.length, platform: { architecture: 'amd64', os: 'linux' } }] };
  return { digest: await putManifest(tag, index, indexType), mediaType: indexType };
}

function sha256(b: Buffer): string {
  return `sha256:${createHash('sha256').update(b).digest('hex')}`;
}

async function pushAuth(registry: TestRegistry, repo: string, creds: { username: string; password: string }): Promise<string> {
  const basic = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
  if (registry.auth === 'htpasswd' || registry.realm === undefined) return basic;
  const url = new URL(registry.realm);
  url.searchParams.set('service', SERVICE);
  url.searchParams.set('scope', `repository:${repo}:pull,push`);
  const res = await fetch(url, { headers: { authorization: basic }, signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`token service refused the push token (${res.status})`);
  const { token } = (await res.json()) as { token: string };
  return `Bearer ${token}`;
}
