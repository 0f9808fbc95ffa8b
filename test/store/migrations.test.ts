import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { LATEST_VERSION, openSqliteStore, SchemaTooNewError } from '../../src/store/sqlite/index.js';
import { attemptId, newJobId } from '../../src/store/sqlite/ids.js';
import { spec, tempDir } from './helpers.js';

test('migrations run once; reopening keeps the schema, data and instance id', async () => {
  const tmp = tempDir();
  try {
    const a = await openSqliteStore({ path: tmp.path });
    assert.match(a.instanceId, /^w[0-9a-z]{12}$/);
    const job = await a.createJob(spec({ t: {} }), { defaultBackend: 'local' });
    await a.close();

    const b = await openSqliteStore({ path: tmp.path });
    const c = await openSqliteStore({ path: tmp.path });
    assert.equal(b.instanceId, a.instanceId);
    assert.equal(c.instanceId, a.instanceId);
    assert.equal((await b.getJob(job.id))?.name, 'test');
    await b.close();
    await c.close();

    const raw = new Database(tmp.path);
    const rows = raw.prepare('SELECT version, name FROM migrations ORDER BY version').all();
    assert.deepEqual(rows, [{ version: 1, name: 'init' }, { version: 2, name: 'tasks_by_state' }, { version: 3, name: 'log_cursor' }, { version: 4, name: 'admin' }, { version: 5, name: 'submit_keys_and_workers' }]);
    assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
    raw.close();
  } finally {
    tmp.cleanup();
  }
});

test('a database from a newer Wharf is refused with a clear message', async () => {
  const tmp = tempDir();
  try {
    await (await openSqliteStore({ path: tmp.path })).close();
    const raw = new Database(tmp.path);
    raw.prepare('INSERT INTO migrations (version, name, applied_at) VALUES (?, ?, ?)').run(LATEST_VERSION + 1, 'future', 0);
    raw.close();
    await assert.rejects(openSqliteStore({ path: tmp.path }), (err: unknown) => {
      assert.ok(err instanceof SchemaTooNewError);
      assert.equal(err.found, LATEST_VERSION + 1);
      assert.match(err.message, /newer Wharf/);
      return true;
    });
  } finally {
    tmp.cleanup();
  }
});

test('job ids are short, lowercase, DNS-safe and sort by creation time', () => {
  const ids = [newJobId(1_700_000_000_000), newJobId(1_700_000_000_001), newJobId(1_800_000_000_000)];
  for (const id of ids) assert.match(id, /^j[0-9a-z]{16}$/);
  assert.deepEqual([...ids].sort(), ids);
  assert.notEqual(newJobId(5), newJobId(5));
  assert.equal(attemptId('jabc', 'build-x', 2), 'jabc-build-x-2');
});
