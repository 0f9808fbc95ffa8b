// Row shapes of the SQLite schema, for Kysely. Booleans are 0/1 and JSON columns are text:
// that is how SQLite stores them and better-sqlite3 binds nothing else.
import type { Generated } from 'kysely';
import type { AttemptState, JobState, TaskState } from '../../core/states.js';
import type { LogStream, WharfEvent } from '../../spec/api.js';
import type { BackendName } from '../../spec/schema.js';

export interface MetaTable {
  key: string;
  value: string;
}

export interface MigrationsTable {
  version: number;
  name: string;
  applied_at: number;
}

export interface JobsTable {
  /** Creation order: newest first in listings, and the listing cursor. */
  seq: Generated<number>;
  id: string;
  name: string;
  /** JSON object of string → string. */
  labels: string;
  state: JobState;
  cancel_requested: number;
  /** The JobSpec as submitted, JSON. */
  spec: string;
  created_at: number;
  updated_at: number;
  ended_at: number | null;
  /** Bumped by every change to the job's state or tasks; validates in-memory snapshots. */
  rev: Generated<number>;
  /** The client's Idempotency-Key of the submit that made it, if any (unique). */
  idempotency_key: string | null;
}

export interface TasksTable {
  job_id: string;
  name: string;
  /** Index in the spec, so views list tasks as written. */
  position: number;
  state: TaskState;
  /** JSON string[]. */
  needs: string;
  /** JSON RetryPolicy, kept apart from the plan so transitions need not parse the plan. */
  retry: string;
  /** JSON TaskPlan. */
  plan: string;
  attempts: number;
  attempts_base: number;
  backend: BackendName;
}

export interface AttemptsTable {
  id: string;
  job_id: string;
  task: string;
  number: number;
  backend: BackendName;
  state: AttemptState;
  queued_at: number;
  not_before: number;
  worker: string | null;
  lease_expires_at: number | null;
  fence: number;
  started_at: number | null;
  ended_at: number | null;
  /** JSON AttemptOutcome. */
  outcome: string | null;
  stop_requested: string | null;
  log_bytes: number;
  log_truncated: number;
  /** The backend's resume cursor just after the stored output (Backend.logs `after`). */
  log_cursor: string | null;
}

export interface LogsTable {
  id: Generated<number>;
  job_id: string;
  task: string;
  attempt: number;
  stream: LogStream;
  time: number;
  text: string;
}

export interface EventsTable {
  id: Generated<number>;
  time: number;
  job_id: string;
  type: WharfEvent['type'];
  /** JSON: the event's fields beyond id, time, type and jobId. */
  payload: string;
}

export interface Tables {
  meta: MetaTable;
  migrations: MigrationsTable;
  jobs: JobsTable;
  tasks: TasksTable;
  attempts: AttemptsTable;
  logs: LogsTable;
  events: EventsTable;
}
