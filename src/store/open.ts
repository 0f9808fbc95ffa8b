// Opens the store a --db value names: a postgres:// or postgresql:// URL → PostgreSQL, anything
// else → a SQLite file (default <home>/wharf.db). Each store's module (and its driver) is loaded
// only when chosen.
import { join } from 'node:path';
import { isPostgresUrl, redactDbUrl } from './postgres/url.js';
import type { AdminStore } from './admin.js';
import type { Store } from './types.js';
import type { WorkerRegistry } from './workers.js';

export { redactDbUrl };

/** Either store: the Store, plus tokens, secrets and the audit log, and the worker registry. */
export type OpenedStore = Store & { readonly admin: AdminStore; readonly workers: WorkerRegistry };

export interface OpenStoreOptions {
  /** A PostgreSQL URL or a SQLite file path; default `<home>/wharf.db`. */
  db?: string;
  home: string;
  now?: () => number;
}

export async function openStore(opts: OpenStoreOptions): Promise<OpenedStore> {
  const db = opts.db;
  if (db !== undefined && isPostgresUrl(db)) {
    const { openPostgresStore } = await import('./postgres/store.js');
    return openPostgresStore({ url: db, ...(opts.now ? { now: opts.now } : {}) });
  }
  const { openSqliteStore } = await import('./sqlite/store.js');
  return openSqliteStore({ path: db ?? join(opts.home, 'wharf.db'), ...(opts.now ? { now: opts.now } : {}) });
}
