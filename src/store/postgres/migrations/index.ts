// Numbered migrations, the same versions as SQLite's (version N means the same schema in both),
// applied in order under an advisory lock, each recorded in the `migrations` table.
import type pg from 'pg';
import { SchemaTooNewError } from '../../sqlite/migrations/index.js';
import { LOCK_CLASS, MIGRATIONS_LOCK } from '../db.js';
import { init } from './0001_init.js';
import { tasksByState } from './0002_tasks_by_state.js';
import { logCursor } from './0003_log_cursor.js';
import { admin } from './0004_admin.js';
import { idempotencyKey } from './0005_idempotency_key.js';

// The SQLite store's error, so callers check one class whatever the database.
export { SchemaTooNewError };

export interface Migration {
  version: number;
  name: string;
  up(db: pg.ClientBase): Promise<void>;
}

export const MIGRATIONS: readonly Migration[] = [init, tasksByState, logCursor, admin, idempotencyKey];

export const LATEST_VERSION = MIGRATIONS.length;

/**
 * Brings the schema up to date. A session advisory lock makes concurrent openers (several
 * servers and workers starting at once) wait for each other, so the first migrates and the
 * rest find it done; one transaction makes a failed migration leave the database as it was.
 * `url` names the database in errors, redacted.
 */
export async function migrate(db: pg.ClientBase, url: string, now: number): Promise<void> {
  MIGRATIONS.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migration ${m.name} is numbered ${m.version}, expected ${i + 1}`);
  });
  await db.query('SELECT pg_advisory_lock($1, $2)', [LOCK_CLASS, MIGRATIONS_LOCK]);
  try {
    await db.query('BEGIN');
    try {
      await db.query('CREATE TABLE IF NOT EXISTS migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)');
      const { rows } = await db.query<{ v: number | null }>('SELECT max(version) AS v FROM migrations');
      const current = rows[0]?.v ?? 0;
      if (current > LATEST_VERSION) throw new SchemaTooNewError(url, current, LATEST_VERSION);
      for (const m of MIGRATIONS) {
        if (m.version <= current) continue;
        await m.up(db);
        await db.query('INSERT INTO migrations (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, now]);
      }
      await db.query('COMMIT');
    } catch (e) {
      await db.query('ROLLBACK').catch(() => undefined);
      throw e;
    }
  } finally {
    // If this fails the connection is gone, and the session lock with it.
    await db.query('SELECT pg_advisory_unlock($1, $2)', [LOCK_CLASS, MIGRATIONS_LOCK]).catch(() => undefined);
  }
}
