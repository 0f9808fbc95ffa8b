// Shared by the store tests: the two dialects every shared test runs on, a controllable clock,
// fresh stores, small specs.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { openPostgresStore } from '../../src/store/postgres/index.js';
import type { JobCacheStats } from '../../src/store/sqlite/job-cache.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite/index.js';
import type { Claim, ClaimRequest, Store } from '../../src/store/types.js';
import type { JobSpec, TaskSpec } from '../../src/spec/schema.js';
import { freshDatabase } from '../infra/postgres.js';

export class Clock {
  t = 1_700_000_000_000;
  readonly now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

/** Both stores offer their job cache's counters beyond Store. */
export type TestStore = Store & { jobCacheStats(): JobCacheStats };

/** A database several stores can open at once, as several processes would. */
export interface TestDb {
  open(clock?: Clock): Promise<TestStore>;
  /** SQL on a connection of its own (placeholders: `?` for SQLite, `$1` for PostgreSQL). */
  query(text: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  cleanup(): Promise<void>;
}

export interface Dialect {
  name: 'sqlite' | 'postgres';
  /** A store on a fresh, empty database of its own. */
  open(clock?: Clock): Promise<TestStore>;
  database(): Promise<TestDb>;
}

const sqlite: Dialect = {
  name: 'sqlite',
  open: (clock = new Clock()) => memStore(clock),
  async database() {
    const tmp = tempDir();
    return {
      open: (clock = new Clock()) => openSqliteStore({ path: tmp.path, now: clock.now }),
      async query(text, params = []) {
        const raw = new Database(tmp.path);
        try {
          const st = raw.prepare(text);
          if (st.reader) return st.all(...params) as Record<string, unknown>[];
          st.run(...params);
          return [];
        } finally {
          raw.close();
        }
      },
      async cleanup() { tmp.cleanup(); },
    };
  },
};

const postgres: Dialect = {
  name: 'postgres',
  async open(clock = new Clock()) {
    return openPostgresStore({ url: await freshDatabase(), now: clock.now });
  },
  async database() {
    const url = await freshDatabase();
    return {
      open: (clock = new Clock()) => openPostgresStore({ url, now: clock.now }),
      async query(text, params = []) {
        const c = new pg.Client({ connectionString: url });
        await c.connect();
        try {
          return (await c.query(text, params)).rows as Record<string, unknown>[];
        } finally {
          await c.end();
        }
      },
      async cleanup() { /* the shared cluster goes with the test process */ },
    };
  },
};

/** Every test that holds for any Store runs once per dialect: `for (const d of dialects) describe(d.name, …)`. */
export const dialects: readonly Dialect[] = [sqlite, postgres];

export async function memStore(clock = new Clock()): Promise<SqliteStore> {
  return openSqliteStore({ path: ':memory:', now: clock.now });
}

/** A directory for database files, removed by the returned function. */
export function tempDir(): { dir: string; path: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-store-'));
  return { dir, path: join(dir, 'wharf.db'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function spec(tasks: Record<string, Partial<TaskSpec>>, extra: Partial<JobSpec> = {}): JobSpec {
  const full: Record<string, TaskSpec> = {};
  for (const [name, t] of Object.entries(tasks)) full[name] = { command: ['true'], ...t };
  return { name: 'test', ...extra, tasks: full };
}

export function request(over: Partial<ClaimRequest> = {}): ClaimRequest {
  return { workerId: 'w1', backends: ['local'], leaseMs: 30_000, limit: 10, ...over };
}

export async function claimAll(store: Store, over: Partial<ClaimRequest> = {}): Promise<Claim[]> {
  return store.claimAttempts(request(over));
}

/** Claims exactly one attempt, failing the test otherwise. */
export async function claimOne(store: Store, over: Partial<ClaimRequest> = {}): Promise<Claim> {
  const claims = await store.claimAttempts(request({ limit: 1, ...over }));
  const c = claims[0];
  if (claims.length !== 1 || !c) throw new Error(`expected one claim, got ${claims.length}`);
  return c;
}

export function ok<T>(r: { ok: true; value: T } | { ok: false }): T {
  if (!r.ok) throw new Error(`expected ok, got ${JSON.stringify(r)}`);
  return r.value;
}
