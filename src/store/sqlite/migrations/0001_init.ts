// The first schema. Times are milliseconds since the epoch; JSON columns are text.
import type Database from 'better-sqlite3';
import { randomBase32 } from '../ids.js';
import type { Migration } from './index.js';

const SQL = `
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

-- AUTOINCREMENT on every id a client sees (cursor, log and event ids): never reused, even
-- after old rows are pruned.
CREATE TABLE jobs (
  seq              INTEGER PRIMARY KEY AUTOINCREMENT,
  id               TEXT NOT NULL UNIQUE,
  name             TEXT NOT NULL,
  labels           TEXT NOT NULL,
  state            TEXT NOT NULL,
  cancel_requested INTEGER NOT NULL DEFAULT 0,
  spec             TEXT NOT NULL,
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL,
  ended_at         INTEGER,
  -- Bumped by every write to the job's state or its tasks' rows: a process holding the job's
  -- snapshot in memory reuses it only while this is unchanged (another process may write).
  rev              INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX jobs_by_state ON jobs (state, seq);

CREATE TABLE tasks (
  job_id        TEXT NOT NULL REFERENCES jobs (id),
  name          TEXT NOT NULL,
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
  id               TEXT PRIMARY KEY,
  job_id           TEXT NOT NULL,
  task             TEXT NOT NULL,
  number           INTEGER NOT NULL,
  backend          TEXT NOT NULL,
  state            TEXT NOT NULL CHECK (state IN ('queued', 'running', 'ended')),
  queued_at        INTEGER NOT NULL,
  not_before       INTEGER NOT NULL,
  worker           TEXT,
  lease_expires_at INTEGER,
  fence            INTEGER NOT NULL DEFAULT 0,
  started_at       INTEGER,
  ended_at         INTEGER,
  outcome          TEXT,
  stop_requested   TEXT,
  log_bytes        INTEGER NOT NULL DEFAULT 0,
  log_truncated    INTEGER NOT NULL DEFAULT 0,
  UNIQUE (job_id, task, number),
  FOREIGN KEY (job_id, task) REFERENCES tasks (job_id, name)
);
-- Not partial indexes: the state is a bound parameter, which a partial index cannot match.
-- id last: claims take attempts in (not_before, id) order, and a job's first attempts share one
-- not_before, so without it every claim would sort all of them.
CREATE INDEX attempts_to_claim ON attempts (state, backend, not_before, id);
CREATE INDEX attempts_by_lease ON attempts (state, lease_expires_at);

-- No foreign keys: rows are only written under a fenced claim, and this is the hot table.
CREATE TABLE logs (
  id      INTEGER PRIMARY KEY AUTOINCREMENT,
  job_id  TEXT NOT NULL,
  task    TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  stream  TEXT NOT NULL,
  time    INTEGER NOT NULL,
  text    TEXT NOT NULL
);
CREATE INDEX logs_by_job ON logs (job_id, id);
CREATE INDEX logs_by_task ON logs (job_id, task, id);

CREATE TABLE events (
  id      INTEGER PRIMARY KEY AUTOINCREMENT,
  time    INTEGER NOT NULL,
  job_id  TEXT NOT NULL,
  type    TEXT NOT NULL,
  payload TEXT NOT NULL
);
CREATE INDEX events_by_job ON events (job_id, id);
`;

export const init: Migration = {
  version: 1,
  name: 'init',
  up(db: Database.Database): void {
    db.exec(SQL);
    // Random and fixed for the life of the database: every process opening it agrees on it.
    db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run('instance_id', `w${randomBase32(12)}`);
  },
};
