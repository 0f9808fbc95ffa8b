// A client's Idempotency-Key on submit (the same key names the same job, however often it is
// sent), and the registry of live workers (what each can run, its heartbeat).
import type Database from 'better-sqlite3';
import type { Migration } from './index.js';

export const idempotencyKey: Migration = {
  version: 5,
  name: 'submit_keys_and_workers',
  up(db: Database.Database): void {
    db.exec(`ALTER TABLE jobs ADD COLUMN idempotency_key TEXT;
      CREATE UNIQUE INDEX jobs_by_idempotency_key ON jobs (idempotency_key) WHERE idempotency_key IS NOT NULL;
      CREATE TABLE workers (
        id TEXT PRIMARY KEY,
        host TEXT NOT NULL,
        pid INTEGER NOT NULL,
        backends TEXT NOT NULL,
        labels TEXT NOT NULL,
        capacity INTEGER NOT NULL,
        running INTEGER NOT NULL,
        started_at INTEGER NOT NULL,
        last_seen_at INTEGER NOT NULL
      );`);
  },
};
