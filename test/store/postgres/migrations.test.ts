// PostgreSQL migrations: one schema history (SQLite's versions), run once under an advisory
// lock however many stores open a fresh database at once; a newer schema is refused.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pg from 'pg';
import { LATEST_VERSION, openPostgresStore, SchemaTooNewError } from '../../../src/store/postgres/index.js';
import { LATEST_VERSION as SQLITE_LATEST_VERSION } from '../../../src/store/sqlite/index.js';
import { SchemaTooNewError as SqliteSchemaTooNewError } from '../../../src/store/sqlite/index.js';
import { freshDatabase, testPostgres } from '../../infra/postgres.js';
import { spec } from '../helpers.js';

async function query(url: string, text: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(text, params)).rows as Record<string, unknown>[];
  } finally {
    await c.end();
  }
}

describe('postgres migrations', () => {
  it('four stores opening one fresh database at once migrate it exactly once', async () => {
    const url = await freshDatabase();
    const stores = await Promise.all([1, 2, 3, 4].map(() => openPostgresStore({ url })));
    try {
      assert.equal(LATEST_VERSION, SQLITE_LATEST_VERSION, 'a version means the same schema in both stores');
      assert.match(stores[0]?.instanceId ?? '', /^w[0-9a-z]{12}$/);
      assert.deepEqual(new Set(stores.map((s) => s.instanceId)).size, 1, 'one instance id for all');
      const rows = await query(url, 'SELECT version, name FROM migrations ORDER BY version');
      assert.deepEqual(rows, [
        { version: 1, name: 'init' }, { version: 2, name: 'tasks_by_state' }, { version: 3, name: 'log_cursor' }, { version: 4, name: 'admin' }, { version: 5, name: 'submit_keys_and_workers' },
      ]);
      assert.deepEqual(await query(url, "SELECT count(*)::int AS n FROM meta WHERE key = 'instance_id'"), [{ n: 1 }]);
      // Every store works on the one schema.
      const job = await stores[1]!.createJob(spec({ t: {} }), { defaultBackend: 'local' });
      assert.equal((await stores[3]!.getJob(job.id))?.state, 'queued');
      // No session still holds the migration lock.
      assert.deepEqual(await query(url, `SELECT count(*)::int AS n FROM pg_locks
        WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`), [{ n: 0 }]);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
    // Reopening changes nothing and keeps the data and the instance id.
    const again = await openPostgresStore({ url });
    try {
      assert.equal(again.instanceId, stores[0]?.instanceId);
      assert.equal((await query(url, 'SELECT count(*)::int AS n FROM migrations'))[0]?.n, LATEST_VERSION);
      assert.equal((await again.listJobs({ limit: 10 })).jobs.length, 1);
    } finally {
      await again.close();
    }
  });

  it('a database from a newer Wharf is refused with a clear message naming both versions, and no password', async () => {
    const url = await freshDatabase();
    await (await openPostgresStore({ url })).close();
    await query(url, 'INSERT INTO migrations (version, name, applied_at) VALUES ($1, $2, $3)', [LATEST_VERSION + 1, 'future', 0]);
    const { password } = await testPostgres();
    await assert.rejects(openPostgresStore({ url }), (err: unknown) => {
      assert.ok(err instanceof SchemaTooNewError);
      assert.ok(err instanceof SqliteSchemaTooNewError, 'one error class for both stores');
      assert.equal(err.found, LATEST_VERSION + 1);
      assert.equal(err.known, LATEST_VERSION);
      assert.match(err.message, new RegExp(`schema version ${LATEST_VERSION + 1}, but this Wharf knows versions up to ${LATEST_VERSION}`));
      assert.match(err.message, /newer Wharf/);
      assert.match(err.message, /postgres:\/\/wharf:\*\*\*@127\.0\.0\.1:\d+\//);
      assert.ok(!err.message.includes(password));
      return true;
    });
    // Nothing was changed by the refused open.
    assert.deepEqual(await query(url, 'SELECT max(version)::int AS v FROM migrations'), [{ v: LATEST_VERSION + 1 }]);
  });
});
