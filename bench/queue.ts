// `node dist/bench/run.js queue`: Wharf's queue against graphile-worker 0.16 on the same
// throwaway PostgreSQL cluster (test/infra/postgres.ts: fsync off, for both; synchronous_commit
// on in the bench's databases), in the same run;
// SQLite beside it. Only the queue is measured: a worker's backend work (starting a process or
// a container) is left out, for Wharf as for graphile-worker (no-op task handlers).
//   9. claim → start → finish of N no-op attempts (bench/store-pg.ts), `loops` claim loops ×
//      `batch`, vs graphile-worker draining N no-op jobs with concurrency = loops × batch; both
//      queued up front, timed from the first claim / from run(); claims alone beside it
//  10. submit → claimed by an idle claimer woken by LISTEN/NOTIFY vs graphile's add_job → job:start
//  11. the same drain and wake with 10k and 100k ended jobs stored: the cost per attempt should stay flat
import { EventEmitter } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { Logger, run, runMigrations, type WorkerEvents } from 'graphile-worker';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { openPostgresStore } from '../src/store/postgres/index.js';
import { openSqliteStore } from '../src/store/sqlite/index.js';
import type { Store } from '../src/store/types.js';
import { startPostgres } from '../test/infra/postgres.js';
import { claimOnly, createJobs, drain, fillHistory, median, percentile, wakeLatency } from './store-pg.js';

const silent = new Logger(() => () => undefined);
/** graphile-worker's default pool size, and Wharf's. */
const POOL = 10;

/** A pool with every connection made already, as a running service's would be. */
async function warmPool(url: string, max: number): Promise<pg.Pool> {
  const pool = new pg.Pool({ connectionString: url, max });
  pool.on('error', () => undefined);
  const clients = await Promise.all(Array.from({ length: max }, () => pool.connect()));
  for (const c of clients) c.release();
  return pool;
}

/** graphile-worker draining `n` no-op jobs added up front (add_jobs, 1 000 a call): jobs/s, timed from run(). */
async function graphileDrain(url: string, n: number, concurrency: number): Promise<number> {
  const pool = await warmPool(url, POOL);
  try {
    await runMigrations({ pgPool: pool, logger: silent });
    for (let added = 0; added < n; added += 1_000) {
      await pool.query(`SELECT count(*) FROM graphile_worker.add_jobs((SELECT array_agg(
        ROW('noop', '{}'::json, NULL, NULL, NULL, NULL, NULL, NULL)::graphile_worker.job_spec) FROM generate_series(1, $1)))`,
      [Math.min(1_000, n - added)]);
    }
    const events: WorkerEvents = new EventEmitter();
    let completed = 0;
    const all = new Promise<void>((resolve) => events.on('job:complete', () => { if (++completed === n) resolve(); }));
    const t0 = performance.now();
    const runner = await run({
      pgPool: pool, concurrency, noHandleSignals: true, pollInterval: 60_000, logger: silent, events, taskList: { noop: async () => undefined },
    });
    await all;
    const ms = performance.now() - t0;
    await runner.stop();
    const left = await pool.query<{ n: string }>('SELECT count(*) AS n FROM graphile_worker._private_jobs');
    if (left.rows[0]?.n !== '0') throw new Error(`graphile-worker left ${left.rows[0]?.n} jobs`);
    return n / (ms / 1_000);
  } finally {
    await pool.end();
  }
}

/** add_job on a connection of its own → job:start in an idle runner (woken by its LISTEN), in ms; after `warm` unmeasured. */
async function graphileWake(url: string, warm: number, samples: number): Promise<number[]> {
  const pool = await warmPool(url, 4);
  const submitter = await warmPool(url, 1);
  const events: WorkerEvents = new EventEmitter();
  let started: ((id: string) => void) | undefined;
  events.on('job:start', ({ job }) => started?.(job.id));
  const out: number[] = [];
  try {
    const runner = await run({
      pgPool: pool, concurrency: 1, noHandleSignals: true, pollInterval: 60_000, logger: silent, events, taskList: { noop: async () => undefined },
    });
    try {
      for (let i = 0; i < warm + samples; i++) {
        const seen = new Promise<string>((resolve) => { started = resolve; });
        const t0 = performance.now();
        const r = await submitter.query<{ id: string }>(`SELECT id FROM graphile_worker.add_job('noop')`);
        const id = await seen;
        if (i >= warm) out.push(performance.now() - t0);
        if (id !== r.rows[0]?.id) throw new Error(`job:start for ${id}, expected ${r.rows[0]?.id}`);
      }
    } finally {
      await runner.stop();
    }
  } finally {
    await submitter.end();
    await pool.end();
  }
  return out;
}

const f = (n: number): string => n.toFixed(n < 10 ? 2 : 0);
const lat = (xs: number[]): string => `p50 ${f(percentile(xs, 50))} ms, p99 ${f(percentile(xs, 99))} ms`;

export async function benchQueue(home: string): Promise<void> {
  const JOBS = Number(process.env.WHARF_BENCH_JOBS ?? 4_000);
  const LOOPS = Number(process.env.WHARF_BENCH_LOOPS ?? 4);
  const BATCH = Number(process.env.WHARF_BENCH_BATCH ?? 25);
  const REPS = 3;
  const SAMPLES = 300;
  const concurrency = LOOPS * BATCH;
  mkdirSync(home, { recursive: true });
  console.log(`9-11. queue: load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} at start; ${JOBS} no-op attempts per drain, ` +
    `${LOOPS} claim loops × batch ${BATCH}; graphile-worker concurrency ${concurrency}; pools of ${POOL}`);
  const cluster = await startPostgres();
  const admin = new pg.Client({ connectionString: cluster.url });
  let dbs = 0;
  const pgUrl = async (): Promise<string> => {
    const name = `bench_${++dbs}`;
    await admin.query(`CREATE DATABASE ${name}`);
    // Commits durable to the WAL, as Wharf needs them (the test cluster turns that off; fsync stays off).
    await admin.query(`ALTER DATABASE ${name} SET synchronous_commit = on`);
    const u = new URL(cluster.url);
    u.pathname = `/${name}`;
    return u.toString();
  };
  const sqlitePath = (): string => join(home, `q${++dbs}.db`);
  const dialects = [
    { name: 'PostgreSQL', open: async (): Promise<Store> => openPostgresStore({ url: await pgUrl() }) },
    { name: 'SQLite', open: async (): Promise<Store> => openSqliteStore({ path: sqlitePath() }) },
  ];
  try {
    await admin.connect();
    // 9. Throughput, a fresh database per run, the three interleaved.
    const rates = { PostgreSQL: [] as number[], SQLite: [] as number[], graphile: [] as number[] };
    const claimRates = { PostgreSQL: [] as number[], SQLite: [] as number[] };
    for (let rep = 0; rep < REPS; rep++) {
      rates.graphile.push(await graphileDrain(await pgUrl(), JOBS, concurrency));
      for (const d of dialects) {
        const store = await d.open();
        try {
          await createJobs(store, JOBS);
          rates[d.name as 'SQLite'].push((await drain(store, JOBS, LOOPS, BATCH)).perSecond);
          await createJobs(store, JOBS);
          claimRates[d.name as 'SQLite'].push(await claimOnly(store, JOBS, LOOPS, BATCH));
        } finally {
          await store.close();
        }
      }
    }
    const [pgR, sqR, gwR] = [median(rates.PostgreSQL), median(rates.SQLite), median(rates.graphile)];
    console.log(`9. claim → start → finish, median of ${REPS}: PostgreSQL ${f(pgR)}/s, SQLite ${f(sqR)}/s; ` +
      `graphile-worker ${f(gwR)}/s; Wharf PostgreSQL / graphile-worker ${(pgR / gwR).toFixed(2)}× [target ≥ 0.5×, ≥ 5 000/s]`);
    console.log(`   claims alone: PostgreSQL ${f(median(claimRates.PostgreSQL))}/s, SQLite ${f(median(claimRates.SQLite))}/s; ` +
      `runs: PostgreSQL ${rates.PostgreSQL.map(f).join(', ')}; SQLite ${rates.SQLite.map(f).join(', ')}; graphile-worker ${rates.graphile.map(f).join(', ')}`);

    // 10. Wake latency: PostgreSQL across two stores (as a server and a worker process), SQLite
    // in one (its nudges are in-process only).
    const url = await pgUrl();
    const submitter = await openPostgresStore({ url });
    const claimer = await openPostgresStore({ url });
    const local = await openSqliteStore({ path: sqlitePath() });
    try {
      await wakeLatency(submitter, claimer, 30); // warm-up
      await wakeLatency(local, local, 30);
      const gwUrl = await pgUrl();
      // In turns, so that a change in the machine's load falls on all three alike.
      const [pgWake, sqliteWake, gwWake] = [[] as number[], [] as number[], [] as number[]];
      for (let round = 0; round < 3; round++) {
        pgWake.push(...await wakeLatency(submitter, claimer, SAMPLES / 3));
        sqliteWake.push(...await wakeLatency(local, local, SAMPLES / 3));
        gwWake.push(...await graphileWake(gwUrl, 10, SAMPLES / 3));
      }
      console.log(`10. submit → claimed, idle claimer, ${SAMPLES} samples: PostgreSQL across stores ${lat(pgWake)}; ` +
        `SQLite ${lat(sqliteWake)}; graphile-worker add_job → job:start ${lat(gwWake)} [target p50 ≤ 5 ms, p99 < 25 ms]`);
    } finally {
      await submitter.close();
      await claimer.close();
      await local.close();
    }

    // 11. Growth: history stored first (cloned in SQL from one real job), then the same measures,
    // every size in turn within each repetition (the machine's load drifts).
    const SIZES = [0, 10_000, 100_000];
    const setups: { dialect: string; stored: number; store: Store; other: Store; runs: number[]; wake: number[] }[] = [];
    try {
      for (const d of dialects) {
        for (const stored of SIZES) {
          const where = d.name === 'PostgreSQL' ? await pgUrl() : sqlitePath();
          const open = (): Promise<Store> => d.name === 'PostgreSQL' ? openPostgresStore({ url: where }) : openSqliteStore({ path: where });
          const store = await open();
          // PostgreSQL: submit on one store, claim on another (two processes); SQLite: one.
          const setup = { dialect: d.name, stored, store, other: store, runs: [] as number[], wake: [] as number[] };
          setups.push(setup);
          if (d.name === 'PostgreSQL') setup.other = await open();
          await createJobs(store, 1);
          await drain(store, 1, 1, 1);
          if (stored === 0) continue;
          const k = d.name === 'PostgreSQL'
            ? new Kysely<unknown>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: where, max: 1 }) }) })
            : new Kysely<unknown>({ dialect: new SqliteDialect({ database: new Database(where) }) });
          try {
            await fillHistory(k, stored, d.name === 'PostgreSQL' ? 'postgres' : 'sqlite');
          } finally {
            await k.destroy();
          }
        }
      }
      for (let rep = 0; rep < REPS; rep++) {
        for (const s of setups) {
          await createJobs(s.store, JOBS);
          s.runs.push((await drain(s.store, JOBS, LOOPS, BATCH)).perSecond);
          s.wake.push(...await wakeLatency(s.store, s.other, SAMPLES / REPS));
        }
      }
      for (const stored of SIZES) {
        const parts = setups.filter((s) => s.stored === stored).map((s) => {
          const us = 1e6 / median(s.runs);
          const base = setups.find((b) => b.dialect === s.dialect && b.stored === 0);
          const ratio = base ? us / (1e6 / median(base.runs)) : 1;
          return `${s.dialect} ${f(us)} µs/attempt (${ratio.toFixed(2)}×), wake ${lat(s.wake)}`;
        });
        console.log(`11. ${stored.toLocaleString('en')} ended jobs stored: ${parts.join('; ')}`);
      }
    } finally {
      for (const s of setups) {
        if (s.other !== s.store) await s.other.close();
        await s.store.close();
      }
    }
  } finally {
    await admin.end().catch(() => undefined);
    await cluster.stop();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const home = mkdtempSync(join(tmpdir(), 'wharf-bench-queue-'));
  try {
    await benchQueue(home);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}
