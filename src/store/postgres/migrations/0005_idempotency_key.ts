// A client's Idempotency-Key on submit, and the registry of live workers (SQLite's 0005).
import type pg from 'pg';
import type { Migration } from './index.js';

export const idempotencyKey: Migration = {
  version: 5,
  name: 'submit_keys_and_workers',
  async up(db: pg.ClientBase): Promise<void> {
    await db.query('ALTER TABLE jobs ADD COLUMN idempotency_key TEXT');
    await db.query('CREATE UNIQUE INDEX jobs_by_idempotency_key ON jobs (idempotency_key) WHERE idempotency_key IS NOT NULL');
    await db.query(`CREATE TABLE workers (
      id TEXT PRIMARY KEY,
      host TEXT NOT NULL,
      pid INTEGER NOT NULL,
      backends TEXT NOT NULL,
      labels TEXT NOT NULL,
      capacity INTEGER NOT NULL,
      running INTEGER NOT NULL,
      started_at BIGINT NOT NULL,
      last_seen_at BIGINT NOT NULL
    )`);
  },
};
