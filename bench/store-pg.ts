// `node dist/bench/store-pg.js`: the PostgreSQL store against the SQLite one, in one process,
// on a throwaway PostgreSQL cluster (test/infra/postgres.ts) and a SQLite file.
//   a. claim → finish throughput of no-op attempts: N one-task jobs queued up front, then 4
//      claim loops (limit 20 each) finishing every claim at once, until none is left
//   b. createJob → claimed, p50/p99, with an idle claimer woken by the store's nudge: for
//      PostgreSQL a second store (its own pool and LISTEN connection, as another process
//      would have), for SQLite the same store (its nudges are in-process only)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { openPostgresStore } from '../src/store/postgres/index.js';
import { openSqliteStore } from '../src/store/sqlite/index.js';
import type { Store } from '../src/store/types.js';
import type { JobSpec } from '../src/spec/schema.js';
import { startPostgres } from '../test/infra/postgres.js';

const JOB: JobSpec = { name: 'bench', tasks: { t: { command: ['true'] } } };

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? NaN;
}

/** Attempts finished per second by `loops` concurrent claim loops draining `jobs` queued jobs. */
async function throughput(store: Store, jobs: number, loops: number, limit: number): Promise<number> {
  for (let i = 0; i < jobs; i++) await store.createJob(JOB, { defaultBackend: 'local' });
  let done = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: loops }, async (_, n) => {
    for (;;) {
      const claims = await store.claimAttempts({ workerId: `w${n}`, backends: ['local'], leaseMs: 60_000, limit });
      if (claims.length === 0) {
        if (await store.nextQueuedAt(['local']) === undefined) return;
        continue; // the rest are held by other loops' transactions
      }
      for (const c of claims) {
        const r = await store.finishAttempt(c, { kind: 'succeeded' });
        if (!r.ok) throw new Error(`finish of ${c.attemptId} refused`);
        done++;
      }
    }
  }));
  const s = (performance.now() - t0) / 1_000;
  if (done !== jobs) throw new Error(`finished ${done} of ${jobs}`);
  return done / s;
}

/** createJob on `submitter` → claimed by an idle claimer on `claimer`, woken by attempts_queued. */
async function wakeLatency(submitter: Store, claimer: Store, samples: number): Promise<number[]> {
  const out: number[] = [];
  let wake: (() => void) | undefined;
  const off = claimer.onChange((c) => { if (c.type === 'attempts_queued') wake?.(); });
  try {
    for (let i = 0; i < samples; i++) {
      const woken = new Promise<void>((resolve) => { wake = resolve; });
      const t0 = performance.now();
      await submitter.createJob(JOB, { defaultBackend: 'local' });
      await woken;
      const claims = await claimer.claimAttempts({ workerId: 'idle', backends: ['local'], leaseMs: 60_000, limit: 1 });
      out.push(performance.now() - t0);
      const c = claims[0];
      if (claims.length !== 1 || !c) throw new Error(`expected one claim, got ${claims.length}`);
      await claimer.finishAttempt(c, { kind: 'succeeded' });
    }
  } finally {
    off();
  }
  return out;
}

const f = (n: number): string => n.toFixed(n < 10 ? 2 : 0);

export async function benchStorePg(): Promise<void> {
  const JOBS = 2_000;
  const LOOPS = 4;
  const LIMIT = 20;
  const cluster = await startPostgres();
  const dir = mkdtempSync(join(tmpdir(), 'wharf-bench-store-'));
  const url = (db: string): string => {
    const u = new URL(cluster.url);
    u.pathname = `/${db}`;
    return u.toString();
  };
  try {
    const c = new pg.Client({ connectionString: cluster.url });
    await c.connect();
    await c.query('CREATE DATABASE bench_a');
    await c.query('CREATE DATABASE bench_b');
    await c.end();

    const pgStore = await openPostgresStore({ url: url('bench_a') });
    const sqlite = await openSqliteStore({ path: join(dir, 'a.db') });
    const pgRate = await throughput(pgStore, JOBS, LOOPS, LIMIT);
    const sqliteRate = await throughput(sqlite, JOBS, LOOPS, LIMIT);
    console.log(`a. claim → finish, ${JOBS} no-op attempts, ${LOOPS} loops × limit ${LIMIT}: PostgreSQL ${f(pgRate)}/s, ` +
      `SQLite ${f(sqliteRate)}/s (${f(sqliteRate / pgRate)}× PostgreSQL)`);
    await pgStore.close();
    await sqlite.close();

    const submitter = await openPostgresStore({ url: url('bench_b') });
    const claimer = await openPostgresStore({ url: url('bench_b') });
    const local = await openSqliteStore({ path: join(dir, 'b.db') });
    try {
      await wakeLatency(submitter, claimer, 20); // warm-up
      const pgWake = await wakeLatency(submitter, claimer, 300);
      const sameStore = await wakeLatency(submitter, submitter, 300);
      await wakeLatency(local, local, 20);
      const sqliteWake = await wakeLatency(local, local, 300);
      console.log(`b. createJob → claimed by an idle claimer: PostgreSQL across stores (NOTIFY) p50 ${f(percentile(pgWake, 50))} ms ` +
        `p99 ${f(percentile(pgWake, 99))} ms; PostgreSQL same store p50 ${f(percentile(sameStore, 50))} ms; ` +
        `SQLite same store p50 ${f(percentile(sqliteWake, 50))} ms p99 ${f(percentile(sqliteWake, 99))} ms`);
    } finally {
      await submitter.close();
      await claimer.close();
      await local.close();
    }
  } finally {
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await benchStorePg();
}
