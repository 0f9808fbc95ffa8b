// Shared by the store tests: a controllable clock, fresh stores, small specs.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite/index.js';
import type { Claim, ClaimRequest } from '../../src/store/types.js';
import type { JobSpec, TaskSpec } from '../../src/spec/schema.js';

export class Clock {
  t = 1_700_000_000_000;
  readonly now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

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

export async function claimAll(store: SqliteStore, over: Partial<ClaimRequest> = {}): Promise<Claim[]> {
  return store.claimAttempts(request(over));
}

/** Claims exactly one attempt, failing the test otherwise. */
export async function claimOne(store: SqliteStore, over: Partial<ClaimRequest> = {}): Promise<Claim> {
  const claims = await store.claimAttempts(request({ limit: 1, ...over }));
  const c = claims[0];
  if (claims.length !== 1 || !c) throw new Error(`expected one claim, got ${claims.length}`);
  return c;
}

export function ok<T>(r: { ok: true; value: T } | { ok: false }): T {
  if (!r.ok) throw new Error(`expected ok, got ${JSON.stringify(r)}`);
  return r.value;
}
