// Row shapes of the PostgreSQL schema, for Kysely: SQLite's, on purpose, so the two stores
// return identical results from the same rows. Flags are 0/1 integers, JSON columns are text,
// times and ids are BIGINT read back as numbers (the pool's type parsers, see store.ts). Only
// log text differs: bytea, since process output may hold U+0000, which text cannot.
import type { LogsTable as SqliteLogsTable, Tables as SqliteTables } from '../sqlite/tables.js';

export type { AttemptsTable, EventsTable, JobsTable, MetaTable, MigrationsTable, TasksTable } from '../sqlite/tables.js';

export interface LogsTable extends Omit<SqliteLogsTable, 'text'> {
  /** UTF-8. */
  text: Buffer;
}

export type Tables = Omit<SqliteTables, 'logs'> & { logs: LogsTable };
