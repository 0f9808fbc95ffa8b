// The embedded SQLite store.
export { openSqliteStore, SqliteStore, type SqliteStoreOptions } from './store.js';
export { SchemaTooNewError, LATEST_VERSION } from './migrations/index.js';
