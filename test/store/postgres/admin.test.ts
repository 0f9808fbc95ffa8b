// The admin records on PostgreSQL (tokens, sealed secrets, the append-only audit log): the
// same behaviour as on SQLite (test/admin/store.test.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pg from 'pg';
import type { StoredToken } from '../../../src/store/admin.js';
import { openPostgresStore, type PostgresStore } from '../../../src/store/postgres/index.js';
import { freshDatabase } from '../../infra/postgres.js';

async function store(clock = { t: 1_000 }): Promise<{ s: PostgresStore; clock: { t: number }; url: string }> {
  const url = await freshDatabase();
  return { s: await openPostgresStore({ url, now: () => clock.t }), clock, url };
}

const tok = (id: string, scopes: string[], over: Partial<StoredToken> = {}): StoredToken => ({
  id, name: id, scopes, hash: 'h'.repeat(64), createdAt: 1, expiresAt: null, revokedAt: null, lastUsedAt: null, ...over,
});

describe('admin store (postgres)', () => {
  it('keeps tokens, revokes once, and knows whether a live admin token exists', async () => {
    const { s, clock } = await store();
    try {
      const a = s.admin;
      assert.equal(await a.hasAdminToken(clock.t), false);
      await a.insertToken(tok('reader', ['read']));
      await a.insertToken(tok('expired', ['admin'], { expiresAt: 500 }));
      assert.equal(await a.hasAdminToken(clock.t), false);
      await a.insertToken(tok('boss', ['admin'], { createdAt: 2 }));
      assert.equal(await a.hasAdminToken(clock.t), true);
      assert.deepEqual((await a.listTokens()).map((t) => t.id), ['boss', 'expired', 'reader']);
      assert.deepEqual(await a.getToken('reader'), tok('reader', ['read']));
      assert.equal(await a.getToken('nobody'), undefined);
      assert.equal(await a.revokeToken('boss'), true);
      assert.equal(await a.revokeToken('boss'), false);
      assert.equal(await a.revokeToken('nobody'), false);
      assert.equal((await a.getToken('boss'))?.revokedAt, 1_000);
      assert.equal(await a.hasAdminToken(clock.t), false);
      await a.touchToken('reader', 1_234);
      assert.equal((await a.getToken('reader'))?.lastUsedAt, 1_234);
    } finally {
      await s.close();
    }
  });

  it('creates, replaces, lists (names only) and deletes secrets', async () => {
    const { s, clock } = await store();
    try {
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
    } finally {
      await s.close();
    }
  });

  it('appends audit entries, concurrently in id order, and refuses to change or remove them', async () => {
    const { s, url } = await store();
    try {
      const a = s.admin;
      const e1 = await a.appendAudit({ actor: 'local:root', action: 'job.submit', target: 'j1' });
      const e2 = await a.appendAudit({ actor: 'token:abc (ci)', action: 'job.cancel', target: 'j1' });
      assert.deepEqual(await a.listAudit({ limit: 10 }), [e1, e2]);
      assert.deepEqual(await a.listAudit({ after: e1.id, limit: 10 }), [e2]);
      const many = await Promise.all(Array.from({ length: 20 }, (_, i) => a.appendAudit({ actor: 'x', action: 'job.submit', target: `j${i}` })));
      assert.equal(new Set(many.map((e) => e.id)).size, 20);
      assert.equal((await a.listAudit({ after: e2.id, limit: 100 })).length, 20);
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        for (const q of ['DELETE FROM audit', "UPDATE audit SET actor = 'x'", 'TRUNCATE audit']) {
          await assert.rejects(c.query(q), /append-only/, q);
        }
      } finally {
        await c.end();
      }
      assert.equal((await a.listAudit({ limit: 100 })).length, 22);
    } finally {
      await s.close();
    }
  });
});
