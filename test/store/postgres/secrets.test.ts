// The database URL's password never appears in what Wharf says: connection refused, wrong
// password, every way an error may be printed. And openStore picks the store by the --db value.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { describe, it } from 'node:test';
import { openStore, redactDbUrl } from '../../../src/store/open.js';
import { openPostgresStore, PostgresStore, PostgresUnavailableError } from '../../../src/store/postgres/index.js';
import { SqliteStore } from '../../../src/store/sqlite/index.js';
import { freshDatabase, testPostgres } from '../../infra/postgres.js';
import { tempDir } from '../helpers.js';

async function closedPort(): Promise<number> {
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await new Promise((r) => srv.once('listening', r));
  const { port } = srv.address() as AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

function assertNoSecret(err: unknown, secret: string): void {
  for (const text of [String(err), JSON.stringify(err), inspect(err, { depth: null, showHidden: true }), (err as Error).stack ?? '']) {
    assert.ok(!text.includes(secret), `the password appears in: ${text.replaceAll(secret, '<PASSWORD>')}`);
  }
}

describe('postgres: secrets in errors', () => {
  it('connection refused: the error names the URL with *** for the password', async () => {
    const port = await closedPort();
    const secret = 'Refused-S3cret';
    const url = `postgres://wharf:${secret}@127.0.0.1:${port}/wharf`;
    for (const open of [() => openPostgresStore({ url }), () => openStore({ db: url, home: '/nonexistent' })]) {
      const err = await open().then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof PostgresUnavailableError, String(err));
      assert.equal(err.message, `cannot use the PostgreSQL database at postgres://wharf:***@127.0.0.1:${port}/wharf: connect ECONNREFUSED 127.0.0.1:${port}`);
      assert.equal(err.code, 'ECONNREFUSED');
      assertNoSecret(err, secret);
    }
  });

  it('a wrong password: the error says so, without either password', async () => {
    const { password } = await testPostgres();
    const good = new URL(await freshDatabase());
    const secret = 'Wrong-S3cret%with&odd=chars';
    const bad = new URL(good);
    bad.password = encodeURIComponent(secret);
    const err = await openPostgresStore({ url: bad.toString() }).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof PostgresUnavailableError, String(err));
    assert.match(err.message, /password authentication failed for user "wharf"/);
    assert.match(err.message, /postgres:\/\/wharf:\*\*\*@127\.0\.0\.1:\d+\/t/);
    assert.equal(err.code, '28P01');
    assertNoSecret(err, secret);
    assertNoSecret(err, encodeURIComponent(secret));
    assertNoSecret(err, password);
  });

  it('redactDbUrl hides the password wherever the URL carries it', () => {
    assert.equal(redactDbUrl('postgres://u:p%40ss@db.example:5432/wharf?sslmode=require'), 'postgres://u:***@db.example:5432/wharf?sslmode=require');
    assert.equal(redactDbUrl('postgresql://u@db/wharf?password=hunter2&application_name=x'), 'postgresql://u@db/wharf?password=***&application_name=x');
    assert.equal(redactDbUrl('postgres://db/wharf'), 'postgres://db/wharf');
    assert.equal(redactDbUrl('postgres://u:hunter2@[::1/wharf'), 'postgres://u:***@[::1/wharf', 'unparsable, still redacted');
    assert.equal(redactDbUrl('postgres://u:pa/ss#x@db:x/wharf'), 'postgres://u:***@db:x/wharf', 'unparsable, a password with / and #');
    assert.equal(redactDbUrl('/var/lib/wharf/wharf.db'), '/var/lib/wharf/wharf.db');
  });

  it('openStore: a postgres:// or postgresql:// URL opens PostgreSQL, anything else a SQLite file', async () => {
    const url = await freshDatabase();
    for (const u of [url, url.replace(/^postgres:/, 'postgresql:')]) {
      const s = await openStore({ db: u, home: '/nonexistent' });
      try {
        assert.ok(s instanceof PostgresStore);
        await s.ping();
      } finally {
        await s.close();
      }
    }
    const tmp = tempDir();
    try {
      const byDefault = await openStore({ home: tmp.dir });
      assert.ok(byDefault instanceof SqliteStore);
      await byDefault.close();
      assert.ok(existsSync(join(tmp.dir, 'wharf.db')));
      const named = await openStore({ db: join(tmp.dir, 'other.db'), home: '/nonexistent' });
      assert.ok(named instanceof SqliteStore);
      await named.close();
      assert.ok(existsSync(join(tmp.dir, 'other.db')));
    } finally {
      tmp.cleanup();
    }
  });
});
