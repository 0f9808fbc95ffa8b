// The admin records on both stores: tokens, sealed secrets, the append-only audit log.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AdminStore, StoredToken } from '../../src/store/admin.js';
import { Clock, dialects } from './helpers.js';

const tok = (id: string, scopes: string[], over: Partial<StoredToken> = {}): StoredToken => ({
  id, name: id, scopes, hash: 'h'.repeat(64), createdAt: 1, expiresAt: null, revokedAt: null, lastUsedAt: null, ...over,
});

const adminOf = (s: object): AdminStore => (s as { admin: AdminStore }).admin;

for (const d of dialects) {
  describe(`admin records (${d.name})`, () => {
    it('keeps tokens, revokes once, and knows whether a live admin token exists', async () => {
      const clock = new Clock();
      const s = await d.open(clock);
      try {
        const a = adminOf(s);
        assert.equal(await a.hasAdminToken(clock.t), false);
        await a.insertToken(tok('reader', ['read']));
        await a.insertToken(tok('expired', ['admin'], { expiresAt: clock.t - 1 }));
        assert.equal(await a.hasAdminToken(clock.t), false);
        await a.insertToken(tok('boss', ['admin'], { createdAt: 2 }));
        assert.equal(await a.hasAdminToken(clock.t), true);
        assert.deepEqual((await a.listTokens()).map((t) => t.id), ['boss', 'expired', 'reader']);
        assert.deepEqual((await a.getToken('reader'))?.scopes, ['read']);
        assert.equal(await a.revokeToken('boss'), true);
        assert.equal(await a.revokeToken('boss'), false);
        assert.equal(await a.revokeToken('nobody'), false);
        assert.equal((await a.getToken('boss'))?.revokedAt, clock.t);
        assert.equal(await a.hasAdminToken(clock.t), false);
        await a.touchToken('reader', 1_234);
        assert.equal((await a.getToken('reader'))?.lastUsedAt, 1_234);
      } finally {
        await s.close();
      }
    });

    it('creates, replaces, lists (names only) and deletes secrets', async () => {
      const clock = new Clock();
      const s = await d.open(clock);
      try {
        const a = adminOf(s);
        const t0 = clock.t;
        assert.equal(await a.putSecret('TOKEN', 'v1:sealed-1'), true);
        clock.advance(1_000);
        assert.equal(await a.putSecret('TOKEN', 'v1:sealed-2'), false);
        await a.putSecret('API_KEY', 'v1:sealed-3');
        assert.deepEqual(await a.listSecrets(), [
          { name: 'API_KEY', createdAt: t0 + 1_000, updatedAt: t0 + 1_000 }, { name: 'TOKEN', createdAt: t0, updatedAt: t0 + 1_000 },
        ]);
        assert.deepEqual((await a.getSecrets(['TOKEN', 'NONE'])).map((x) => [x.name, x.sealed]), [['TOKEN', 'v1:sealed-2']]);
        assert.deepEqual(await a.getSecrets([]), []);
        assert.equal(await a.deleteSecret('TOKEN'), true);
        assert.equal(await a.deleteSecret('TOKEN'), false);
      } finally {
        await s.close();
      }
    });

    it('appends audit entries, and the database refuses to change or remove them', async () => {
      const db = await d.database();
      const s = await db.open();
      try {
        const a = adminOf(s);
        const e1 = await a.appendAudit({ actor: 'local:root', action: 'job.submit', target: 'j1' });
        const e2 = await a.appendAudit({ actor: 'token:abc (ci)', action: 'job.cancel', target: 'j1' });
        assert.deepEqual(await a.listAudit({ limit: 10 }), [e1, e2]);
        assert.deepEqual(await a.listAudit({ after: e1.id, limit: 10 }), [e2]);
        await assert.rejects(db.query('DELETE FROM audit'), /append-only/);
        await assert.rejects(db.query("UPDATE audit SET actor = 'x'"), /append-only/);
        assert.equal((await a.listAudit({ limit: 10 })).length, 2);
      } finally {
        await s.close();
        await db.cleanup();
      }
    });
  });
}
