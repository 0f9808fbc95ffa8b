// The Fastify hook: who may call which route, in open and required mode, in the API's error shape.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fastify, { type FastifyInstance, type FastifyRequest, type LightMyRequestResponse } from 'fastify';
import { registerAuth, type AuthOptions } from '../../src/auth/fastify.js';
import { OidcVerifier } from '../../src/auth/oidc.js';
import { createToken } from '../../src/auth/tokens.js';
import type { Scope } from '../../src/auth/scopes.js';
import { errorBodySchema } from '../../src/spec/api.js';
import { WharfService } from '../../src/api/service.js';
import { buildApp } from '../../src/server/app.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { deadPort, sign, startIdp, type Idp } from './idp.js';
import { MemoryTokenRecords } from './memory-records.js';

function tinyApp(opts: AuthOptions): FastifyInstance {
  const app = fastify();
  registerAuth(app, opts);
  const who = async (req: FastifyRequest) => ({ principal: req.principal });
  for (const url of ['/', '/health', '/ready', '/metrics', '/api/v1/jobs', '/api/v1/tokens']) app.get(url, who);
  for (const url of ['/api/v1/jobs', '/api/v1/jobs/:id/cancel', '/api/v1/jobs/:id/retry']) app.post(url, who);
  app.delete('/api/v1/jobs/:id', who);
  return app;
}

function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

/** A refusal: its status, the one error shape, and the code; returns the message. */
function refusal(res: LightMyRequestResponse, status: number, code: string): string {
  assert.equal(res.statusCode, status, res.body);
  const body = errorBodySchema.parse(JSON.parse(res.body));
  assert.equal(body.error.code, code);
  assert.deepEqual(body.error.details, []);
  return body.error.message;
}

function principalOf(res: LightMyRequestResponse): unknown {
  assert.equal(res.statusCode, 200, res.body);
  return (JSON.parse(res.body) as { principal: unknown }).principal;
}

describe('auth: fastify hook, required mode', () => {
  const records = new MemoryTokenRecords();
  const used: string[] = [];
  let now = Date.UTC(2030, 0, 1);
  const mint = (scopes: Scope[], expiresAt?: number) => {
    const t = createToken({ scopes, name: scopes.join('+'), ...(expiresAt ? { expiresAt } : {}) }, now);
    records.add(t.record);
    return t;
  };
  const read = mint(['read']);
  const submit = mint(['submit']);
  const admin = mint(['admin']);
  const brief = mint(['read'], now + 1000);
  const app = tinyApp({ mode: 'required', tokens: records, onUsed: (id) => { used.push(id); }, now: () => now });
  after(() => app.close());

  it('leaves /health, /ready and routes outside /api open', async () => {
    for (const url of ['/health', '/ready', '/']) assert.equal(principalOf(await app.inject({ url })), null);
  });

  it('asks for credentials on /api/*, with a bare Bearer challenge', async () => {
    const res = await app.inject({ url: '/api/v1/jobs' });
    assert.match(refusal(res, 401, 'unauthorized'), /requires credentials: send Authorization: Bearer <token>/);
    assert.equal(res.headers['www-authenticate'], 'Bearer realm="wharf"');
  });

  it('cannot be sidestepped with an escaped path, and guards unknown /api paths too', async () => {
    refusal(await app.inject({ url: '/%61pi/v1/jobs' }), 401, 'unauthorized');
    refusal(await app.inject({ url: '/api/v1/no-such-thing' }), 401, 'unauthorized');
  });

  it('lets a read token read, and refuses it what it lacks with 403 naming the scope', async () => {
    assert.deepEqual(principalOf(await app.inject({ url: '/api/v1/jobs', headers: bearer(read.token) })),
      { kind: 'token', tokenId: read.record.id, name: 'read', scopes: ['read'] });
    const res = await app.inject({ method: 'POST', url: '/api/v1/jobs', headers: bearer(read.token) });
    assert.equal(refusal(res, 403, 'forbidden'),
      `API token ${read.record.id} (read) lacks the submit scope (it has read); use a credential with the submit or admin scope`);
    assert.equal(res.headers['www-authenticate'], 'Bearer realm="wharf", error="insufficient_scope", scope="submit"');
    refusal(await app.inject({ method: 'POST', url: '/api/v1/jobs/j1/cancel', headers: bearer(read.token) }), 403, 'forbidden');
  });

  it('gives submit no read, lets it retry; admin may do anything', async () => {
    principalOf(await app.inject({ method: 'POST', url: '/api/v1/jobs', headers: bearer(submit.token) }));
    principalOf(await app.inject({ method: 'POST', url: '/api/v1/jobs/j1/retry', headers: bearer(submit.token) }));
    refusal(await app.inject({ url: '/api/v1/jobs', headers: bearer(submit.token) }), 403, 'forbidden');
    refusal(await app.inject({ method: 'POST', url: '/api/v1/jobs/j1/cancel', headers: bearer(submit.token) }), 403, 'forbidden');
    for (const [method, url] of [['GET', '/api/v1/tokens'], ['DELETE', '/api/v1/jobs/j1'], ['POST', '/api/v1/jobs/j1/cancel']] as const) {
      principalOf(await app.inject({ method, url, headers: bearer(admin.token) }));
    }
    refusal(await app.inject({ url: '/api/v1/tokens', headers: bearer(read.token) }), 403, 'forbidden');
  });

  it('refuses a bad token with invalid_token, echoing it nowhere', async () => {
    const fake = `${read.token.slice(0, -4)}AAAA`;
    const res = await app.inject({ url: '/api/v1/jobs', headers: bearer(fake) });
    refusal(res, 401, 'unauthorized');
    assert.match(String(res.headers['www-authenticate']), /^Bearer realm="wharf", error="invalid_token", error_description="the API token is not valid/);
    const secret = fake.slice(-20);
    assert.ok(!res.body.includes(secret) && !JSON.stringify(res.headers).includes(secret));
  });

  it('refuses other schemes, a JWT when no issuer is configured, and junk', async () => {
    const basic = await app.inject({ url: '/api/v1/jobs', headers: { authorization: 'Basic dXNlcjpwYXNz' } });
    assert.equal(refusal(basic, 401, 'unauthorized'), 'the Authorization header must be "Bearer <token>"');
    assert.match(refusal(await app.inject({ url: '/api/v1/jobs', headers: bearer('aaa.bbb.ccc') }), 401, 'unauthorized'), /accepts no OIDC tokens/);
    assert.match(refusal(await app.inject({ url: '/api/v1/jobs', headers: bearer('letmein') }), 401, 'unauthorized'), /neither a Wharf API token/);
  });

  it('refuses a token once it has expired, by the given clock', async () => {
    principalOf(await app.inject({ url: '/api/v1/jobs', headers: bearer(brief.token) }));
    now += 1000;
    assert.match(refusal(await app.inject({ url: '/api/v1/jobs', headers: bearer(brief.token) }), 401, 'unauthorized'), /expired at/);
  });

  it('reports each use of a token, and only successful ones', async () => {
    used.length = 0;
    await app.inject({ url: '/api/v1/jobs', headers: bearer(read.token) });
    await app.inject({ method: 'POST', url: '/api/v1/jobs', headers: bearer(submit.token) });
    await app.inject({ url: '/api/v1/jobs', headers: bearer(`${read.token.slice(0, -1)}A`) });
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(used, [read.record.id, submit.record.id]);
  });

  it('serves the request even when recording the use fails', async () => {
    const failing = tinyApp({ mode: 'required', tokens: records, onUsed: () => Promise.reject(new Error('store down')), now: () => now });
    try {
      principalOf(await failing.inject({ url: '/api/v1/jobs', headers: bearer(read.token) }));
    } finally {
      await failing.close();
    }
  });
});

describe('auth: fastify hook, open mode', () => {
  const records = new MemoryTokenRecords();
  const read = createToken({ scopes: ['read'] });
  records.add(read.record);
  const app = tinyApp({ mode: 'open', tokens: records });
  after(() => app.close());

  it('treats a request without credentials as anonymous with every scope', async () => {
    const anon = { kind: 'anonymous', scopes: ['read', 'submit', 'cancel', 'admin'] };
    assert.deepEqual(principalOf(await app.inject({ url: '/api/v1/jobs' })), anon);
    assert.deepEqual(principalOf(await app.inject({ method: 'DELETE', url: '/api/v1/jobs/j1' })), anon);
  });

  it('still refuses a credential that is sent and wrong, or lacks the scope', async () => {
    refusal(await app.inject({ url: '/api/v1/jobs', headers: bearer('wharf_nope') }), 401, 'unauthorized');
    refusal(await app.inject({ url: '/api/v1/jobs', headers: { authorization: '' } }), 401, 'unauthorized');
    refusal(await app.inject({ method: 'POST', url: '/api/v1/jobs', headers: bearer(read.token) }), 403, 'forbidden');
  });

  it('takes the open list and protected prefixes as given', async () => {
    const custom = tinyApp({ mode: 'required', tokens: records, protect: ['/api/', '/metrics'], open: ['/health', '/api/v1/tokens'] });
    try {
      refusal(await custom.inject({ url: '/metrics' }), 401, 'unauthorized');
      assert.equal(principalOf(await custom.inject({ url: '/ready' })), null); // not under a protected prefix
      assert.equal(principalOf(await custom.inject({ url: '/api/v1/tokens' })), null);
      principalOf(await custom.inject({ url: '/metrics', headers: bearer(read.token) }));
    } finally {
      await custom.close();
    }
  });
});

describe('auth: fastify hook with OIDC', () => {
  let idp: Idp;
  before(async () => { idp = await startIdp(); });
  after(() => idp.close());

  it('accepts a JWT from the issuer, refuses a stranger’s, and answers 503 when the issuer is unreachable', async () => {
    const oidc = new OidcVerifier({ issuer: idp.issuer, audience: 'wharf', jwksUrl: idp.jwksUrl });
    const unreachable = new OidcVerifier({ issuer: idp.issuer, audience: 'wharf', jwksUrl: `http://127.0.0.1:${await deadPort()}/jwks.json` });
    const app = tinyApp({ mode: 'required', tokens: new MemoryTokenRecords(), oidc });
    const down = tinyApp({ mode: 'required', tokens: new MemoryTokenRecords(), oidc: unreachable });
    try {
      const jwt = await sign({ scope: 'wharf:submit' }, { key: idp.ec, issuer: idp.issuer, audience: 'wharf', subject: 'ci@example' });
      assert.deepEqual(principalOf(await app.inject({ method: 'POST', url: '/api/v1/jobs', headers: bearer(jwt) })),
        { kind: 'oidc', subject: 'ci@example', scopes: ['submit'] });
      assert.match(refusal(await app.inject({ url: '/api/v1/jobs', headers: bearer(jwt) }), 403, 'forbidden'), /^OIDC subject "ci@example" lacks the read scope/);
      const other = await sign({ scope: 'wharf:read' }, { key: idp.rsa, issuer: idp.issuer, audience: 'not-wharf', subject: 'x' });
      const bad = await app.inject({ url: '/api/v1/jobs', headers: bearer(other) });
      refusal(bad, 401, 'unauthorized');
      assert.match(String(bad.headers['www-authenticate']), /error="invalid_token"/);
      const res = await down.inject({ method: 'POST', url: '/api/v1/jobs', headers: bearer(jwt) });
      assert.match(refusal(res, 503, 'unavailable'), /^cannot verify the OIDC token now/);
      assert.equal(res.headers['www-authenticate'], undefined);
    } finally {
      await app.close();
      await down.close();
    }
  });
});

describe('auth: on the real API app', () => {
  it('guards /api/v1 before the body is read, leaves /health open, and lets a token through', async () => {
    const store = await openSqliteStore({ path: ':memory:' });
    const service = new WharfService({ store, defaultBackend: 'local', pollMs: 200 });
    const app = buildApp({ service, store, isReady: () => true });
    const records = new MemoryTokenRecords();
    const read = createToken({ scopes: ['read'] });
    records.add(read.record);
    registerAuth(app, { mode: 'required', tokens: records });
    try {
      assert.equal((await app.inject({ url: '/health' })).statusCode, 200);
      refusal(await app.inject({ url: '/api/v1/jobs' }), 401, 'unauthorized');
      // Unauthenticated, a body is refused for want of credentials, not parsed (no 415/400 first).
      refusal(await app.inject({ method: 'POST', url: '/api/v1/jobs', headers: { 'content-type': 'text/x-nope' }, payload: '{' }), 401, 'unauthorized');
      refusal(await app.inject({ method: 'POST', url: '/api/v1/jobs', headers: { ...bearer(read.token), 'content-type': 'application/json' }, payload: '{}' }), 403, 'forbidden');
      const list = await app.inject({ url: '/api/v1/jobs', headers: bearer(read.token) });
      assert.equal(list.statusCode, 200, list.body);
    } finally {
      await app.close();
      await store.close();
    }
  });
});
