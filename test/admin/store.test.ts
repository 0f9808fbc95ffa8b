// The admin records on SQLite: tokens, sealed secrets, the append-only audit log.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { StoredToken } from '../../src/store/admin.js';

async function store(clock = { t: 1_000 }) {
  return { s: await openSqliteStore({ path: ':memory:', now: () => clock.t }), clock };
}

const tok = (id: string, scopes: string[], over: Partial<StoredToken> = {}): StoredToken => ({
  id, name: id, scopes, hash: 'h'.repeat(64), createdAt: 1, expiresAt: null, revokedAt: null, lastUsedAt: null, ...over,
});

describe('admin store (sqlite)', () => {
  it('keeps tokens, revokes once, and knows whether a live admin token exists', async () => {
    const { s, clock } = await store();
    const a = s.admin;
    assert.equal(await a.hasAdminToken(clock.t), false);
    await a.insertToken(tok('reader', ['read']));
    await a.insertToken(tok('expired', ['admin'], { expiresAt: 500 }));
    assert.equal(await a.hasAdminToken(clock.t), false);
    await a.insertToken(tok('boss', ['admin'], { createdAt: 2 }));
    assert.equal(await a.hasAdminToken(clock.t), true);
    assert.deepEqual((await a.listTokens()).map((t) => t.id), ['boss', 'expired', 'reader']);
    assert.deepEqual((await a.getToken('reader'))?.scopes, ['read']);
    assert.equal(await a.revokeToken('boss'), true);
    assert.equal(await a.revokeToken('boss'), false);
    assert.equal(await a.revokeToken('nobody'), false);
    assert.equal((await a.getToken('boss'))?.revokedAt, 1_000);
    assert.equal(await a.hasAdminToken(clock.t), false);
    await a.touchToken('reader', 1_234);
    assert.equal((await a.getToken('reader'))?.lastUsedAt, 1_234);
    await s.close();
  });

  it('creates, replaces, lists (names only) and deletes secrets', async () => {
    const { s, clock } = await store();
    const a = s.admin;
    assert.equal(await a.putSecret('TOKEN', 'v1:sealed-1'), true);
    clock.t = 2_000;
    assert.equal(await a.putSecret('TOKEN', 'v1:sealed-2'), false);
    await a.putSecret('API_KEY', 'v1:sealed-3');
    assert.deepEqual(await a.listSecrets(), [{ name: 'API_KEY', createdAt: 2_000, updatedAt: 2_000 }, { name: 'TOKEN', createdAt: 1_000, updatedAt: 2_000 }]);
    assert.deepEqual((await a.getSecrets(['TOKEN', 'NONE'])).map((x) => [x.name, x.sealed]), [['TOKEN', 'v1:sealed-2']]);
    assert.deepEqual(await a.getSecrets([]), []);
    assert.equal(await a.deleteSecret('TOKEN'), true);
    assert.equal(await a.deleteSecret('TOKEN'), false);
    await s.close();
  });

  it('appends audit entries and refuses to change or remove them', async () => {
    const { s } = await store();
    const a = s.admin;
    const e1 = await a.appendAudit({ actor: 'local:root', action: 'job.submit', target: 'j1' });
    const e2 = await a.appendAudit({ actor: 'token:abc (ci)', action: 'job.cancel', target: 'j1' });
    assert.deepEqual(await a.listAudit({ limit: 10 }), [e1, e2]);
    assert.deepEqual(await a.listAudit({ after: e1.id, limit: 10 }), [e2]);
    const raw = (s as unknown as { db: { raw: import('better-sqlite3').Database } }).db.raw;
    assert.throws(() => raw.prepare('DELETE FROM audit').run(), /append-only/);
    assert.throws(() => raw.prepare("UPDATE audit SET actor = 'x'").run(), /append-only/);
    await s.close();
  });
});
