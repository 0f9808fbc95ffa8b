// Numbered migrations, applied in order, each recorded in the `migrations` table.
import type Database from 'better-sqlite3';
import { init } from './0001_init.js';
import { tasksByState } from './0002_tasks_by_state.js';
import { logCursor } from './0003_log_cursor.js';
import { admin } from './0004_admin.js';
import { idempotencyKey } from './0005_idempotency_key.js';

export interface Migration {
  version: number;
  name: string;
  up(db: Database.Database): void;
}

export const MIGRATIONS: readonly Migration[] = [init, tasksByState, logCursor, admin, idempotencyKey];

export const LATEST_VERSION = MIGRATIONS.length;

export class SchemaTooNewError extends Error {
  constructor(readonly path: string, readonly found: number, readonly known: number) {
    super(`the database ${path} has schema version ${found}, but this Wharf knows versions up to ${known}; `
      + 'it was written by a newer Wharf: upgrade Wharf to open it');
    this.name = 'SchemaTooNewError';
  }
}

/**
 * Brings the schema up to date in one write transaction: concurrent openers wait for each
 * other, and a failed migration leaves the database as it was.
 */
export function migrate(db: Database.Database, path: string, now: number): void {
  MIGRATIONS.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migration ${m.name} is numbered ${m.version}, expected ${i + 1}`);
  });
  db.transaction(() => {
    db.exec('CREATE TABLE IF NOT EXISTS migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
    const row = db.prepare('SELECT max(version) AS v FROM migrations').get() as { v: number | null };
    const current = row.v ?? 0;
    if (current > LATEST_VERSION) throw new SchemaTooNewError(path, current, LATEST_VERSION);
    const record = db.prepare('INSERT INTO migrations (version, name, applied_at) VALUES (?, ?, ?)');
    for (const m of MIGRATIONS) {
      if (m.version <= current) continue;
      m.up(db);
      record.run(m.version, m.name, now);
    }
  }).immediate();
}
