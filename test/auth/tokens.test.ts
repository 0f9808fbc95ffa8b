// API tokens: format, storage as a hash, verification, and errors that never echo a token.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { AuthError } from '../../src/auth/principal.js';
import { AuthInputError } from '../../src/auth/input.js';
import { createToken, parseToken, verifyToken } from '../../src/auth/tokens.js';
import { MemoryTokenRecords } from './memory-records.js';

const NOW = Date.UTC(2030, 0, 1);

function issue(records: MemoryTokenRecords, opts: Parameters<typeof createToken>[0] = { scopes: ['read'] }) {
  const t = createToken(opts, NOW);
  records.add(t.record);
  return t;
}

function refused(r: unknown, reason: string): AuthError {
  assert.ok(r instanceof AuthError, `expected an AuthError, got ${JSON.stringify(r)}`);
  assert.equal(r.status, 401);
  assert.equal(r.code, 'unauthorized');
  assert.equal(r.reason, reason);
  return r;
}

describe('auth: API tokens', () => {
  it('has the documented shape and stores only sha256 of the secret', () => {
    const { token, record } = createToken({ scopes: ['submit', 'read', 'read'], name: ' ci ' }, NOW);
    assert.match(token, /^wharf_[a-z2-7]{12}_[A-Za-z0-9_-]{43}$/);
    const { id, secret } = parseToken(token);
    assert.equal(record.id, id);
    assert.equal(Buffer.from(secret, 'base64url').length, 32);
    assert.equal(record.hash, createHash('sha256').update(secret).digest('hex'));
    assert.ok(!JSON.stringify(record).includes(secret), 'the record holds the secret');
    assert.deepEqual(record.scopes, ['read', 'submit']);
    assert.deepEqual({ name: record.name, createdAt: record.createdAt, expiresAt: record.expiresAt, revokedAt: record.revokedAt },
      { name: 'ci', createdAt: NOW, expiresAt: null, revokedAt: null });
  });

  it('makes a different id and secret every time', () => {
    const tokens = Array.from({ length: 200 }, () => createToken({ scopes: ['read'] }, NOW));
    assert.equal(new Set(tokens.map((t) => t.record.id)).size, 200);
    assert.equal(new Set(tokens.map((t) => parseToken(t.token).secret)).size, 200);
  });

  it('refuses to create a token without scopes or with a past expiry', () => {
    assert.throws(() => createToken({ scopes: [] }, NOW), (e: unknown) => e instanceof AuthInputError && e.field === 'scopes');
    assert.throws(() => createToken({ scopes: ['read'], expiresAt: NOW }, NOW), (e: unknown) => e instanceof AuthInputError && e.field === 'expiresAt');
    assert.throws(() => createToken({ scopes: ['read'], name: 'a\nb' }, NOW), (e: unknown) => e instanceof AuthInputError && e.field === 'name');
  });

  it('verifies a token it made, to a token principal', async () => {
    const records = new MemoryTokenRecords();
    const { token, record } = issue(records, { scopes: ['read', 'cancel'], name: 'deploy bot' });
    assert.deepEqual(await verifyToken(token, records, NOW + 1), { kind: 'token', tokenId: record.id, name: 'deploy bot', scopes: ['read', 'cancel'] });
  });

  it('refuses a wrong secret and an unknown id alike', async () => {
    const records = new MemoryTokenRecords();
    const { token } = issue(records);
    const { id, secret } = parseToken(token);
    const other = secret.startsWith('A') ? `B${secret.slice(1)}` : `A${secret.slice(1)}`;
    const wrong = refused(await verifyToken(`wharf_${id}_${other}`, records, NOW), 'invalid');
    const unknown = refused(await verifyToken(`wharf_${'a'.repeat(12)}_${secret}`, records, NOW), 'invalid');
    assert.equal(wrong.message, unknown.message);
    for (const m of [wrong.message, unknown.message]) assert.ok(!m.includes(secret) && !m.includes(other));
  });

  it('refuses a record whose stored hash is damaged instead of throwing', async () => {
    const records = new MemoryTokenRecords();
    const { token, record } = issue(records);
    records.update(record.id, { hash: 'zz' });
    refused(await verifyToken(token, records, NOW), 'invalid');
  });

  it('refuses an expired token, from the expiry instant on, naming the token and the time', async () => {
    const records = new MemoryTokenRecords();
    const expiresAt = NOW + 3_600_000;
    const { token, record } = issue(records, { scopes: ['read'], expiresAt });
    const before = await verifyToken(token, records, expiresAt - 1);
    assert.ok(!(before instanceof AuthError), 'refused before its expiry');
    const e = refused(await verifyToken(token, records, expiresAt), 'expired');
    assert.ok(e.message.includes(record.id) && e.message.includes(new Date(expiresAt).toISOString()), e.message);
  });

  it('refuses a revoked token, even if the revocation time is ahead of this clock', async () => {
    const records = new MemoryTokenRecords();
    const { token, record } = issue(records);
    records.update(record.id, { revokedAt: NOW + 60_000 });
    const e = refused(await verifyToken(token, records, NOW), 'revoked');
    assert.ok(e.message.includes(record.id));
  });

  it('tells expiry and revocation only to the holder of the right secret', async () => {
    const records = new MemoryTokenRecords();
    const { token, record } = issue(records, { scopes: ['read'], expiresAt: NOW + 1000 });
    records.update(record.id, { revokedAt: NOW });
    const { id, secret } = parseToken(token);
    const forged = `wharf_${id}_${secret.slice(0, -1)}${secret.endsWith('x') ? 'y' : 'x'}`;
    refused(await verifyToken(forged, records, NOW + 5000), 'invalid');
  });

  it('refuses malformed tokens without a lookup and without echoing them', async () => {
    const records = new MemoryTokenRecords();
    const good = createToken({ scopes: ['read'] }, NOW).token;
    const secretPart = parseToken(good).secret;
    const bad = [
      '', 'wharf_', 'hunter2-secret-value', good.slice(0, -1), `${good}x`, good.toUpperCase(), good.replace('wharf_', 'wharv_'),
      `wharf_ABCDEFGHIJKL_${secretPart}`, `wharf_${'a'.repeat(12)}_${secretPart.slice(0, 40)}!!!`, ` ${good}`, `${good}\n`,
    ];
    for (const s of bad) {
      assert.throws(() => parseToken(s), (e: unknown) => e instanceof AuthError && e.reason === 'malformed');
      const e = refused(await verifyToken(s, records, NOW), 'malformed');
      if (s.length >= 12) assert.ok(!e.message.includes(s.trim()), `message echoes ${JSON.stringify(s)}: ${e.message}`);
      assert.ok(!e.message.includes(secretPart.slice(0, 8)), e.message);
    }
    assert.equal(records.lookups, 0);
  });
});
