// Scopes, what users type for them and for expiry, the route → scope table and loopback binds.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AuthInputError, parseExpiry, parseScopes } from '../../src/auth/input.js';
import { bindRequiresAuth, isLoopbackHost } from '../../src/auth/loopback.js';
import { ANONYMOUS, AuthError, requireScope, type Principal } from '../../src/auth/principal.js';
import { scopeFor } from '../../src/auth/route-scope.js';
import { grants } from '../../src/auth/scopes.js';

const NOW = Date.UTC(2030, 0, 1);
const H = 3_600_000;

function inputError(fn: () => unknown, field: string, includes: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof AuthInputError, String(e));
    assert.equal(e.field, field);
    assert.ok(e.message.startsWith(`${field}: `) && e.message.includes(includes), e.message);
    return true;
  });
}

describe('auth: scopes', () => {
  it('admin implies every scope; nothing else implies another', () => {
    for (const s of ['read', 'submit', 'cancel', 'admin'] as const) assert.ok(grants(['admin'], s));
    assert.ok(!grants(['submit'], 'read'));
    assert.ok(!grants(['read', 'submit', 'cancel'], 'admin'));
    assert.ok(!grants([], 'read'));
  });

  it('parses a comma list, deduplicated in canonical order', () => {
    assert.deepEqual(parseScopes('submit,read'), ['read', 'submit']);
    assert.deepEqual(parseScopes(' read , read,admin '), ['read', 'admin']);
    assert.deepEqual(parseScopes(['cancel', 'read']), ['read', 'cancel']);
  });

  it('names the field and every unknown scope', () => {
    inputError(() => parseScopes('read,writ,Admin'), 'scopes', 'unknown scopes "writ", "Admin"; expected one or more of read, submit, cancel, admin');
    inputError(() => parseScopes(' , ', '--scopes'), '--scopes', 'no scope given');
  });

  it('requireScope throws a 403 that names the principal and the missing scope', () => {
    const p: Principal = { kind: 'token', tokenId: 'abcdefghijkl', name: 'ci', scopes: ['read'] };
    requireScope(p, 'read');
    requireScope(ANONYMOUS, 'admin');
    assert.throws(() => requireScope(p, 'submit'), (e: unknown) => {
      assert.ok(e instanceof AuthError);
      assert.deepEqual([e.status, e.code, e.reason, e.scope], [403, 'forbidden', 'insufficient_scope', 'submit']);
      assert.equal(e.message, 'API token abcdefghijkl (ci) lacks the submit scope (it has read); use a credential with the submit or admin scope');
      return true;
    });
  });
});

describe('auth: expiry', () => {
  it('reads durations in hours, days and weeks', () => {
    assert.equal(parseExpiry('12h', NOW), NOW + 12 * H);
    assert.equal(parseExpiry('30d', NOW), NOW + 30 * 24 * H);
    assert.equal(parseExpiry('2w', NOW), NOW + 14 * 24 * H);
  });

  it('reads a date as midnight UTC and a date-time with its zone', () => {
    assert.equal(parseExpiry('2030-02-01', NOW), Date.UTC(2030, 1, 1));
    assert.equal(parseExpiry('2030-01-02T10:30+02:00', NOW), Date.UTC(2030, 0, 2, 8, 30));
    assert.equal(parseExpiry('2030-01-02T10:30:05.5Z', NOW), Date.UTC(2030, 0, 2, 10, 30, 5, 500));
  });

  it('refuses what it cannot read, naming the field and the accepted forms', () => {
    inputError(() => parseExpiry('30x', NOW), 'expires', '"30x" is not an expiry; expected a duration such as 12h, 30d or 4w');
    inputError(() => parseExpiry('2030-01-02T10:30', NOW, '--expires'), '--expires', 'is not an expiry');
    inputError(() => parseExpiry('2030-02-30', NOW), 'expires', 'is not a real date');
    inputError(() => parseExpiry('0d', NOW), 'expires', 'zero');
    inputError(() => parseExpiry('2029-12-31', NOW), 'expires', 'is in the past');
  });
});

describe('auth: route scopes', () => {
  const cases: [string, string, string][] = [
    ['GET', '/api/v1/jobs', 'read'],
    ['GET', '/api/v1/jobs/:id/tasks/:task/logs', 'read'],
    ['GET', '/api/v1/events?after=3', 'read'],
    ['POST', '/api/v1/jobs', 'submit'],
    ['POST', '/api/v1/jobs?wait=1', 'submit'],
    ['POST', '/api/v1/jobs/:id/cancel', 'cancel'],
    ['post', '/api/v1/jobs/j-123/cancel', 'cancel'],
    ['POST', '/api/v1/jobs/:id/retry', 'submit'],
    ['GET', '/api/v1/tokens', 'admin'],
    ['POST', '/api/v1/tokens', 'admin'],
    ['DELETE', '/api/v1/tokens/:id', 'admin'],
    ['GET', '/api/v1/audit', 'admin'],
    ['GET', '/api/v1/secrets/:name', 'admin'],
    ['DELETE', '/api/v1/jobs/:id', 'admin'],
    ['POST', '/api/v1/jobs/:id/cancel/extra', 'admin'],
    ['PUT', '/api/v1/jobs', 'admin'],
    ['POST', '/api/v1/workloads', 'admin'],
  ];
  for (const [method, url, scope] of cases) {
    it(`${method} ${url} → ${scope}`, () => assert.equal(scopeFor(method, url), scope));
  }
});

describe('auth: loopback binds', () => {
  it('needs no auth only on loopback', () => {
    for (const h of ['127.0.0.1', '127.3.2.1', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', 'localhost', 'LOCALHOST']) {
      assert.equal(isLoopbackHost(h), true, h);
      assert.equal(bindRequiresAuth(h), false, h);
    }
    for (const h of ['0.0.0.0', '::', '', '10.0.0.5', '128.0.0.1', '::ffff:10.0.0.1', 'example.com', 'localhost.example.com', '127.1', '192.168.1.1']) {
      assert.equal(bindRequiresAuth(h), true, h);
    }
  });
});
