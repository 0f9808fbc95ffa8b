// The PostgreSQL store.
export { openPostgresStore, PostgresStore, type PostgresStoreOptions } from './store.js';
export { LATEST_VERSION, SchemaTooNewError } from './migrations/index.js';
export { PostgresUnavailableError, redactDbUrl } from './url.js';
