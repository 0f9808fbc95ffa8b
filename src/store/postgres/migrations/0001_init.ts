// The first schema, SQLite's 0001 in PostgreSQL terms. Times are milliseconds since the epoch
// (BIGINT); JSON columns are text; ids compare bytewise (COLLATE "C"), as in SQLite.
import type pg from 'pg';
import { randomBase32 } from '../../sqlite/ids.js';
import type { Migration } from './index.js';

const SQL = `
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

-- Identity columns for every id a client sees (cursor, log and event ids): never reused.
CREATE TABLE jobs (
  seq              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id               TEXT COLLATE "C" NOT NULL UNIQUE,
  name             TEXT NOT NULL,
  labels           TEXT NOT NULL,
  state            TEXT NOT NULL,
  cancel_requested INTEGER NOT NULL DEFAULT 0,
  spec             TEXT NOT NULL,
  created_at       BIGINT NOT NULL,
  updated_at       BIGINT NOT NULL,
  ended_at         BIGINT,
  -- Bumped by every write to the job's state or its tasks' rows: a process holding the job's
  -- snapshot in memory reuses it only while this is unchanged (another process may write).
  rev              INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX jobs_by_state ON jobs (state, seq);

CREATE TABLE tasks (
  job_id        TEXT COLLATE "C" NOT NULL REFERENCES jobs (id),
  name          TEXT COLLATE "C" NOT NULL,
  position      INTEGER NOT NULL,
  state         TEXT NOT NULL,
  needs         TEXT NOT NULL,
  retry         TEXT NOT NULL,
  plan          TEXT NOT NULL,
  attempts      INTEGER NOT NULL DEFAULT 0,
  attempts_base INTEGER NOT NULL DEFAULT 0,
  backend       TEXT NOT NULL,
  PRIMARY KEY (job_id, name)
);

CREATE TABLE attempts (
  id               TEXT COLLATE "C" PRIMARY KEY,
  job_id           TEXT COLLATE "C" NOT NULL,
  task             TEXT COLLATE "C" NOT NULL,
  number           INTEGER NOT NULL,
  backend          TEXT NOT NULL,
  state            TEXT NOT NULL CHECK (state IN ('queued', 'running', 'ended')),
  queued_at        BIGINT NOT NULL,
  not_before       BIGINT NOT NULL,
  worker           TEXT,
  lease_expires_at BIGINT,
  fence            INTEGER NOT NULL DEFAULT 0,
  started_at       BIGINT,
  ended_at         BIGINT,
  outcome          TEXT,
  stop_requested   TEXT,
  log_bytes        BIGINT NOT NULL DEFAULT 0,
  log_truncated    INTEGER NOT NULL DEFAULT 0,
  UNIQUE (job_id, task, number),
  FOREIGN KEY (job_id, task) REFERENCES tasks (job_id, name)
);
-- Partial: ended attempts, nearly all of the table, are in neither. Queries spell the state as
-- a literal so the planner matches them. Claims read attempts_to_claim per backend in
-- (not_before, id) order, and stop after their limit (claim.ts); id follows not_before
-- because a job's first attempts share one not_before.
CREATE INDEX attempts_to_claim ON attempts (backend, not_before, id) WHERE state = 'queued';
CREATE INDEX attempts_by_lease ON attempts (lease_expires_at, backend) WHERE state = 'running';

-- No foreign keys: rows are only written under a fenced claim, and this is the hot table.
CREATE TABLE logs (
  id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  job_id  TEXT COLLATE "C" NOT NULL,
  task    TEXT COLLATE "C" NOT NULL,
  attempt INTEGER NOT NULL,
  stream  TEXT NOT NULL,
  time    BIGINT NOT NULL,
  text    BYTEA NOT NULL
);
CREATE INDEX logs_by_job ON logs (job_id, id);
CREATE INDEX logs_by_task ON logs (job_id, task, id);

CREATE TABLE events (
  id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  time    BIGINT NOT NULL,
  job_id  TEXT COLLATE "C" NOT NULL,
  type    TEXT NOT NULL,
  payload TEXT NOT NULL
);
CREATE INDEX events_by_job ON events (job_id, id);
`;

export const init: Migration = {
  version: 1,
  name: 'init',
  async up(db: pg.ClientBase): Promise<void> {
    await db.query(SQL);
    // Random and fixed for the life of the database: every process opening it agrees on it.
    await db.query('INSERT INTO meta (key, value) VALUES ($1, $2)', ['instance_id', `w${randomBase32(12)}`]);
  },
};
