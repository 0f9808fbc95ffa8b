// Who may use the API, through the real `wharf` processes: a server on a non-loopback address
// needs credentials (API tokens or OIDC JWTs from a local JWKS), scopes are enforced, revoked
// tokens are refused, every change is in the audit log, and no token is kept or shown.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { cliEnv, runCli, startServer, tempHome, type Server } from '../helpers/cli.js';
import { sign, startIdp, type Idp } from '../auth/idp.js';

const JOB = { name: 'hello', tasks: { a: { command: ['true'] } } };

/** Every file under `dir`, as bytes joined. */
function everything(dir: string): Buffer {
  const parts: Buffer[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) parts.push(everything(p));
    else parts.push(readFileSync(p));
  }
  return Buffer.concat(parts);
}

describe('e2e: authentication, scopes, audit', () => {
  const home = tempHome('wharf-auth-');
  const env = cliEnv({ WHARF_HOME: home.dir });
  let idp: Idp;
  let server: Server | undefined;
  let base = '';
  const tokens: Record<string, string> = {};

  const call = (path: string, token?: string, init: RequestInit = {}): Promise<Response> =>
    fetch(base + path, { ...init, headers: { ...(init.headers as Record<string, string>), ...(token ? { authorization: `Bearer ${token}` } : {}) } });

  before(async () => { idp = await startIdp(); });
  after(async () => {
    await server?.stop();
    await idp?.close();
    home.cleanup();
  });

  it('refuses to serve on 0.0.0.0 before an admin token exists, saying how to make one', async () => {
    const r = await runCli(['serve', '--host', '0.0.0.0', '--port', '0'], { env });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no admin token exists yet.*wharf token create --scope admin/s);
  });

  it('makes tokens in-process, printed once, kept only as hashes', async () => {
    for (const [name, scope] of [['admin', 'admin'], ['reader', 'read'], ['ci', 'submit,read']] as const) {
      const r = await runCli(['token', 'create', '--scope', scope, '--name', name], { env });
      assert.equal(r.code, 0, r.stderr);
      const token = r.stdout.trim();
      assert.match(token, /^wharf_[a-z2-7]{12}_[A-Za-z0-9_-]{43}$/);
      assert.match(r.stderr, /shown only now/);
      tokens[name] = token;
    }
    const files = everything(home.dir);
    for (const t of Object.values(tokens)) assert.equal(files.indexOf(t.slice('wharf_'.length + 13)), -1, 'a token secret is in WHARF_HOME');
    const bad = await runCli(['token', 'create', '--scope', 'root'], { env });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /scopes: unknown scope "root"/);
  });

  it('on 0.0.0.0, /api needs a credential with the right scope; /health does not', async () => {
    server = await startServer(['--host', '0.0.0.0', '--oidc-issuer', idp.issuer, '--oidc-audience', 'wharf-api', '--oidc-jwks-url', idp.jwksUrl], env);
    base = server.url.replace('0.0.0.0', '127.0.0.1'); // tests talk to loopback only
    assert.equal((await call('/health')).status, 200);
    const anon = await call('/api/v1/jobs');
    assert.equal(anon.status, 401);
    assert.match(anon.headers.get('www-authenticate') ?? '', /^Bearer realm="wharf"/);
    assert.equal(((await anon.json()) as { error: { code: string } }).error.code, 'unauthorized');
    assert.equal((await call('/api/v1/jobs', tokens.reader)).status, 200);
    const denied = await call('/api/v1/jobs', tokens.reader, { method: 'POST', body: JSON.stringify(JOB), headers: { 'content-type': 'application/json' } });
    assert.equal(denied.status, 403);
    assert.match(((await denied.json()) as { error: { message: string } }).error.message, /lacks the submit scope/);
    const made = await call('/api/v1/jobs', tokens.ci, { method: 'POST', body: JSON.stringify(JOB), headers: { 'content-type': 'application/json' } });
    assert.equal(made.status, 201);
    assert.equal((await call('/api/v1/tokens', tokens.ci)).status, 403);
    assert.equal((await call('/api/v1/jobs', 'wharf_aaaaaaaaaaaa_' + 'A'.repeat(43))).status, 401);
  });

  it('takes OIDC JWTs of the right audience, and refuses others', async () => {
    const good = await sign({ scope: 'wharf:read' }, { key: idp.rsa, issuer: idp.issuer, audience: 'wharf-api', subject: 'alice' });
    assert.equal((await call('/api/v1/jobs', good)).status, 200);
    const wrongAud = await sign({ scope: 'wharf:read' }, { key: idp.rsa, issuer: idp.issuer, audience: 'other-api', subject: 'alice' });
    const r = await call('/api/v1/jobs', wrongAud);
    assert.equal(r.status, 401);
    assert.match(r.headers.get('www-authenticate') ?? '', /invalid_token/);
    assert.equal((await call('/api/v1/jobs', good, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } })).status, 403);
  });

  it('revokes a token through the CLI against the server, which refuses it from then on', async () => {
    assert.ok(server);
    const remote = { ...env, WHARF_URL: base, WHARF_TOKEN: tokens.admin };
    const list = await runCli(['token', 'list', '--json'], { env: remote });
    assert.equal(list.code, 0, list.stderr);
    const reader = (JSON.parse(list.stdout) as { id: string; name: string }[]).find((t) => t.name === 'reader');
    assert.ok(reader);
    assert.ok(!list.stdout.includes(tokens.reader ?? '-'), 'no token in a listing');
    const r = await runCli(['token', 'revoke', reader.id], { env: remote });
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await call('/api/v1/jobs', tokens.reader)).status, 401);
    const asReader = await runCli(['jobs'], { env: { ...remote, WHARF_TOKEN: tokens.reader } });
    assert.equal(asReader.code, 1);
    assert.match(asReader.stderr, /revoked/);
  });

  it('keeps an audit log of who did what, for admins only', async () => {
    const remote = { ...env, WHARF_URL: base, WHARF_TOKEN: tokens.admin };
    const r = await runCli(['audit', '--json'], { env: remote });
    assert.equal(r.code, 0, r.stderr);
    const entries = (JSON.parse(r.stdout) as { entries: { actor: string; action: string; target: string }[] }).entries;
    const actions = entries.map((e) => `${e.action} ${e.actor.replace(/^(token:[a-z2-7]+).*/, '$1')}`);
    assert.equal(entries.filter((e) => e.action === 'token.create').length, 3);
    assert.ok(entries.filter((e) => e.action === 'token.create').every((e) => e.actor.startsWith('local:')), JSON.stringify(entries));
    assert.ok(entries.some((e) => e.action === 'job.submit' && /^token:[a-z2-7]{12} \(ci\)$/.test(e.actor)), actions.join('\n'));
    assert.ok(entries.some((e) => e.action === 'token.revoke' && / \(admin\)$/.test(e.actor)), actions.join('\n'));
    assert.equal((await call('/api/v1/audit', tokens.ci)).status, 403);
    for (const t of Object.values(tokens)) assert.ok(!(server?.stderr() ?? '').includes(t), 'a token in the server log');
  });
});
