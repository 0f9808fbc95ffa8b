// OIDC JWTs against a JWKS served on loopback: what verifies, what is refused (401), and an
// unreachable issuer (503: the token could not be checked, which is not the token's fault).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { AuthInputError } from '../../src/auth/input.js';
import { OidcVerifier, type OidcOptions } from '../../src/auth/oidc.js';
import { AuthError } from '../../src/auth/principal.js';
import { deadPort, newKey, sign, startIdp, type Idp } from './idp.js';

const AUD = 'wharf-api';

function refused(r: unknown, status: number, reason: string): AuthError {
  assert.ok(r instanceof AuthError, `expected an AuthError, got ${JSON.stringify(r)}`);
  assert.deepEqual([r.status, r.reason], [status, reason], r.message);
  return r;
}

function accepted<T>(r: T | AuthError): T {
  assert.ok(!(r instanceof AuthError), `refused: ${r instanceof AuthError ? r.message : ''}`);
  return r;
}

describe('auth: OIDC', () => {
  let idp: Idp;
  before(async () => { idp = await startIdp(); });
  after(() => idp.close());

  const verifier = (o: Partial<OidcOptions> = {}): OidcVerifier =>
    new OidcVerifier({ issuer: idp.issuer, audience: AUD, jwksUrl: idp.jwksUrl, ...o });
  const token = (claims: Record<string, unknown> = { scope: 'openid wharf:read wharf:submit' }, o: Partial<Parameters<typeof sign>[1]> = {}) =>
    sign(claims, { key: idp.rsa, issuer: idp.issuer, audience: AUD, subject: 'alice', ...o });

  it('accepts a valid RS256 token, with the wharf: scopes of its scope claim', async () => {
    const jwt = await token();
    assert.deepEqual(await verifier().verify(jwt), { kind: 'oidc', subject: 'alice', scopes: ['read', 'submit'] });
  });

  it('accepts ES256, and fetches the key set once for many tokens', async () => {
    const v = verifier();
    const before = idp.hits();
    for (let i = 0; i < 5; i++) {
      const r = await v.verify(await token({ scope: 'wharf:admin' }, { key: idp.ec, subject: `u${i}` }));
      assert.deepEqual(r, { kind: 'oidc', subject: `u${i}`, scopes: ['admin'] });
    }
    assert.equal(idp.hits() - before, 1);
  });

  it('reads plain scopes with an empty prefix, and ignores values that are not scopes', async () => {
    const jwt = await token({ scope: 'read cancel wharf:admin openid' });
    assert.deepEqual((await verifier({ scopePrefix: '' }).verify(jwt)), { kind: 'oidc', subject: 'alice', scopes: ['read', 'cancel'] });
    assert.deepEqual((await verifier().verify(jwt)), { kind: 'oidc', subject: 'alice', scopes: ['admin'] });
  });

  it('maps an array claim (groups, or a nested role list) through scopeMap, and only mapped values', async () => {
    const jwt = await token({ groups: ['dev', 'ops', 'wharf:admin', 'constructor'], realm_access: { roles: ['ops'] } });
    const scopeMap = { dev: ['read', 'submit'], ops: ['cancel'] };
    assert.deepEqual(accepted(await verifier({ scopeClaim: 'groups', scopeMap }).verify(jwt)).scopes, ['read', 'submit', 'cancel']);
    assert.deepEqual(accepted(await verifier({ scopeClaim: 'realm_access.roles', scopeMap }).verify(jwt)).scopes, ['cancel']);
  });

  it('gives a token without Wharf scopes a principal with none (every route then answers 403)', async () => {
    assert.deepEqual(await verifier().verify(await token({ scope: 'openid email' })), { kind: 'oidc', subject: 'alice', scopes: [] });
  });

  it('refuses a wrong audience, a wrong issuer, an expired token, and one without exp', async () => {
    const v = verifier();
    refused(await v.verify(await token(undefined, { audience: 'someone-else' })), 401, 'wrong_audience');
    refused(await v.verify(await token(undefined, { issuer: 'https://evil.example' })), 401, 'wrong_issuer');
    refused(await v.verify(await token(undefined, { expiresIn: -120 })), 401, 'expired');
    refused(await v.verify(await token(undefined, { expiresIn: null })), 401, 'invalid');
    refused(await v.verify(await token(undefined, { subject: undefined })), 401, 'invalid');
  });

  it('allows a small clock skew only', async () => {
    const v = verifier({ clockToleranceSec: 30 });
    accepted(await v.verify(await token(undefined, { expiresIn: -10 })));
    refused(await v.verify(await token(undefined, { expiresIn: -45 })), 401, 'expired');
  });

  it('refuses a token signed by another key, with the same kid or an unknown one', async () => {
    const v = verifier();
    const stranger = await newKey('RS256', 'rsa-1');
    refused(await v.verify(await token(undefined, { key: stranger })), 401, 'bad_signature');
    refused(await v.verify(await token(undefined, { key: { ...stranger, kid: 'nobody' } })), 401, 'bad_signature');
  });

  it('refuses HS256 (a key set public key used as an HMAC secret) and a tampered payload', async () => {
    const v = verifier();
    const hs = await new SignJWT({ scope: 'wharf:admin' }).setProtectedHeader({ alg: 'HS256', kid: 'rsa-1' })
      .setIssuer(idp.issuer).setAudience(AUD).setSubject('mallory').setExpirationTime('5m').sign(new TextEncoder().encode('x'.repeat(32)));
    refused(await v.verify(hs), 401, 'bad_signature');
    const [h, , s] = (await token()).split('.');
    const forged = Buffer.from(JSON.stringify({ iss: idp.issuer, aud: AUD, sub: 'mallory', exp: 4e9, scope: 'wharf:admin' })).toString('base64url');
    refused(await v.verify(`${h}.${forged}.${s}`), 401, 'bad_signature');
    refused(await v.verify('a.b.c'), 401, 'malformed');
  });

  it('never echoes the token in a refusal', async () => {
    const jwt = await token(undefined, { audience: 'nope' });
    const e = refused(await verifier().verify(jwt), 401, 'wrong_audience');
    for (const part of jwt.split('.')) assert.ok(!e.message.includes(part), e.message);
  });

  it('answers 503, not 401, when the key set cannot be fetched: nothing listening, an HTTP 500, no answer in time', async () => {
    const jwt = await token();
    const down = `http://127.0.0.1:${await deadPort()}/jwks.json`;
    const e = refused(await verifier({ jwksUrl: down }).verify(jwt), 503, 'idp_unavailable');
    assert.equal(e.code, 'unavailable');
    assert.match(e.message, /^cannot verify the OIDC token now: the issuer's keys at http:\/\/127\.0\.0\.1:\d+\/jwks\.json could not be fetched \(ECONNREFUSED\); try again later$/);
    try {
      idp.setMode('error');
      refused(await verifier().verify(jwt), 503, 'idp_unavailable');
      idp.setMode('hang');
      const t0 = Date.now();
      const slow = refused(await verifier({ timeoutMs: 200 }).verify(jwt), 503, 'idp_unavailable');
      assert.ok(Date.now() - t0 < 2000, 'the timeout was not kept');
      assert.match(slow.message, /did not answer in time/);
    } finally {
      idp.setMode('ok');
    }
  });

  it('refuses bad configuration, naming the field', () => {
    const bad: [Partial<OidcOptions>, string][] = [
      [{ jwksUrl: 'http://idp.example/jwks' }, 'oidc.jwksUrl'],
      [{ jwksUrl: 'not a url' }, 'oidc.jwksUrl'],
      [{ issuer: '' }, 'oidc.issuer'],
      [{ audience: [] }, 'oidc.audience'],
      [{ scopeMap: { devs: ['read', 'write'] } }, 'oidc.scopeMap.devs'],
    ];
    for (const [o, field] of bad) {
      assert.throws(() => verifier(o), (e: unknown) => e instanceof AuthInputError && e.field === field, field);
    }
    assert.ok(verifier({ jwksUrl: 'https://idp.example/jwks' }));
    assert.ok(verifier({ jwksUrl: 'http://[::1]:1/jwks' }));
  });
});
