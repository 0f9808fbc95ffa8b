// A tiny identity provider for tests: signing keys, and their JWKS served over HTTP on 127.0.0.1.
import { createServer, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose';

/** How the JWKS endpoint answers: the keys, an HTTP 500, or never. */
export type JwksMode = 'ok' | 'error' | 'hang';

export interface Key {
  alg: 'RS256' | 'ES256';
  kid: string;
  privateKey: CryptoKey;
}

export interface Idp {
  issuer: string;
  jwksUrl: string;
  rsa: Key;
  ec: Key;
  /** Requests the JWKS endpoint has had. */
  hits(): number;
  setMode(m: JwksMode): void;
  close(): Promise<void>;
}

export async function newKey(alg: 'RS256' | 'ES256', kid: string): Promise<Key & { publicKey: CryptoKey }> {
  const { privateKey, publicKey } = await generateKeyPair(alg);
  return { alg, kid, privateKey, publicKey };
}

export async function startIdp(): Promise<Idp> {
  const rsa = await newKey('RS256', 'rsa-1');
  const ec = await newKey('ES256', 'ec-1');
  const keys = await Promise.all([rsa, ec].map(async (k) => ({ ...(await exportJWK(k.publicKey)), kid: k.kid, alg: k.alg, use: 'sig' })));
  let mode: JwksMode = 'ok';
  let hits = 0;
  const hanging = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    hits++;
    if (req.url !== '/jwks.json') return void res.writeHead(404).end();
    if (mode === 'hang') return void hanging.add(res);
    if (mode === 'error') return void res.writeHead(500).end('boom');
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const issuer = `http://127.0.0.1:${port}`;
  return {
    issuer, jwksUrl: `${issuer}/jwks.json`, rsa, ec,
    hits: () => hits,
    setMode: (m) => { mode = m; },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

export interface SignOptions {
  key: Key;
  issuer: string;
  audience?: string;
  subject?: string;
  /** Seconds from now; negative for a token already expired. Omit `exp` with null. */
  expiresIn?: number | null;
  alg?: string;
}

export async function sign(claims: JWTPayload, o: SignOptions): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  let jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: o.alg ?? o.key.alg, kid: o.key.kid, typ: 'at+jwt' })
    .setIssuer(o.issuer)
    .setIssuedAt(now - 60);
  if (o.audience !== undefined) jwt = jwt.setAudience(o.audience);
  if (o.subject !== undefined) jwt = jwt.setSubject(o.subject);
  if (o.expiresIn !== null) jwt = jwt.setExpirationTime(now + (o.expiresIn ?? 300));
  return jwt.sign(o.key.privateKey);
}

/** A free loopback port with nothing listening on it (found by listening once, then closing). */
export async function deadPort(): Promise<number> {
  const s = createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address() as AddressInfo;
  s.close();
  await once(s, 'close');
  return port;
}
