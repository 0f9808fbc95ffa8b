// API tokens (hashes only), sealed secrets, and the append-only audit log (SQLite's 0004).
import type pg from 'pg';
import type { Migration } from './index.js';

export const admin: Migration = {
  version: 4,
  name: 'admin',
  async up(db: pg.ClientBase): Promise<void> {
    await db.query(`
      CREATE TABLE tokens (
        id           TEXT COLLATE "C" PRIMARY KEY,
        name         TEXT NOT NULL,
        scopes       TEXT NOT NULL,
        hash         TEXT NOT NULL,
        created_at   BIGINT NOT NULL,
        expires_at   BIGINT,
        revoked_at   BIGINT,
        last_used_at BIGINT
      );
      CREATE TABLE secrets (
        name       TEXT COLLATE "C" PRIMARY KEY,
        sealed     TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL
      );
      CREATE TABLE audit (
        id     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        time   BIGINT NOT NULL,
        actor  TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT NOT NULL
      );
      -- Append-only: the database refuses to change or remove an entry.
      CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$;
      CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON audit FOR EACH ROW EXECUTE FUNCTION audit_append_only();
      CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
    `);
  },
};
