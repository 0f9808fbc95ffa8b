// Wharf's side of the queue benchmark (bench/queue.ts runs it and prints it): what a worker asks
// of the Store for a no-op attempt, on either dialect. The backend's own work (starting a
// container or process) is left out on purpose: this measures the queue, not the runs.
//   drain: N one-task jobs created up front, then `loops` claim loops, each claiming up to
//     `batch` attempts and running every claim at once, as a worker's runners do:
//     markStarted → finishAttempt(succeeded), each independently (the store may join them)
//   wake: createJob → claimed by an idle claimer woken by the store's attempts_queued nudge
//   fill: N ended jobs stored already (history), cloned in SQL from one real job
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { Claim, Store } from '../src/store/types.js';
import type { JobSpec } from '../src/spec/schema.js';

export const NOOP_JOB: JobSpec = { name: 'bench', tasks: { t: { command: ['true'] } } };

export function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? NaN;
}

export function median(xs: readonly number[]): number {
  return percentile(xs, 50);
}

/** `n` no-op jobs through createJob, `parallel` at a time (setup, not timed). */
export async function createJobs(store: Store, n: number, parallel = 8): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: parallel }, async () => {
    while (next++ < n) await store.createJob(NOOP_JOB, { defaultBackend: 'local' });
  }));
}

async function runClaim(store: Store, c: Claim): Promise<void> {
  const s = await store.markStarted(c);
  if (!s.ok) throw new Error(`the start of ${c.attemptId} was refused`);
  const f = await store.finishAttempt(c, { kind: 'succeeded' });
  if (!f.ok) throw new Error(`the finish of ${c.attemptId} was refused`);
}

export interface DrainResult { perSecond: number; ms: number; claims: number; claimCalls: number }

/** Drains the `expected` queued attempts: claim → start → finish, timed from the first claim. */
export async function drain(store: Store, expected: number, loops: number, batch: number): Promise<DrainResult> {
  let done = 0;
  let claimCalls = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: loops }, async (_, n) => {
    for (;;) {
      claimCalls++;
      const claims = await store.claimAttempts({ workerId: `w${n}`, backends: ['local'], leaseMs: 60_000, limit: batch });
      if (claims.length === 0) {
        if (done >= expected || await store.nextQueuedAt(['local']) === undefined) return;
        continue; // the rest are held by other loops' transactions
      }
      await Promise.all(claims.map((c) => runClaim(store, c)));
      done += claims.length;
    }
  }));
  const ms = performance.now() - t0;
  if (done !== expected) throw new Error(`finished ${done} of ${expected}`);
  return { perSecond: done / (ms / 1_000), ms, claims: done, claimCalls };
}

/** Claims only (no start or finish): `expected` queued attempts taken, claims per second. */
export async function claimOnly(store: Store, expected: number, loops: number, batch: number): Promise<number> {
  let taken = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: loops }, async (_, n) => {
    while (taken < expected) {
      const claims = await store.claimAttempts({ workerId: `c${n}`, backends: ['local'], leaseMs: 60_000, limit: batch });
      taken += claims.length;
      if (claims.length === 0 && await store.nextQueuedAt(['local']) === undefined) return;
    }
  }));
  const ms = performance.now() - t0;
  if (taken !== expected) throw new Error(`claimed ${taken} of ${expected}`);
  return taken / (ms / 1_000);
}

/** createJob on `submitter` → claimed on `claimer` (idle, woken by attempts_queued), in ms. */
export async function wakeLatency(submitter: Store, claimer: Store, samples: number): Promise<number[]> {
  const out: number[] = [];
  let wake: (() => void) | undefined;
  const off = claimer.onChange((c) => { if (c.type === 'attempts_queued') wake?.(); });
  try {
    for (let i = 0; i < samples; i++) {
      const woken = new Promise<void>((resolve) => { wake = resolve; });
      const t0 = performance.now();
      await submitter.createJob(NOOP_JOB, { defaultBackend: 'local' });
      await woken;
      const claims = await claimer.claimAttempts({ workerId: 'idle', backends: ['local'], leaseMs: 60_000, limit: 1 });
      out.push(performance.now() - t0);
      const c = claims[0];
      if (claims.length !== 1 || !c) throw new Error(`expected one claim, got ${claims.length}`);
      await runClaim(claimer, c);
    }
  } finally {
    off();
  }
  return out;
}

/**
 * Stores `n` more ended jobs, copies of the newest ended job with new ids (its jobs, tasks,
 * attempts and events rows), in one statement per table: what a busy installation's history
 * looks like to the queries, without running n jobs first. The same SQL for both dialects.
 */
export async function fillHistory(k: Kysely<unknown>, n: number, dialect: 'postgres' | 'sqlite'): Promise<void> {
  // Job ids are 17 chars ('j' + time + random); a clone's is 'j' + 'z'×6 + 10 digits: never a real one's.
  const cloneId = dialect === 'postgres' ? sql`'jzzzzzz' || lpad(g.i::text, 10, '0')` : sql`'jzzzzzz' || substr('0000000000' || g.i, -10)`;
  const series = dialect === 'postgres'
    ? sql`generate_series(1, ${n}) AS g(i)`
    : sql`(WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ${n}) SELECT i FROM s) AS g`;
  const tpl = await sql<{ id: string }>`SELECT id FROM jobs WHERE state = 'succeeded' ORDER BY created_at DESC LIMIT 1`.execute(k);
  const src = tpl.rows[0]?.id;
  if (src === undefined) throw new Error('fillHistory needs one ended job to copy');
  await sql`INSERT INTO jobs (id, name, labels, state, cancel_requested, spec, created_at, updated_at, ended_at, rev)
    SELECT ${cloneId}, name, labels, state, cancel_requested, spec, created_at, updated_at, ended_at, rev
    FROM jobs, ${series} WHERE id = ${src}`.execute(k);
  await sql`INSERT INTO tasks (job_id, name, position, state, needs, retry, plan, attempts, attempts_base, backend)
    SELECT ${cloneId}, name, position, state, needs, retry, plan, attempts, attempts_base, backend
    FROM tasks, ${series} WHERE job_id = ${src}`.execute(k);
  await sql`INSERT INTO attempts (id, job_id, task, number, backend, state, queued_at, not_before, worker, lease_expires_at,
      fence, started_at, ended_at, outcome, stop_requested, log_bytes, log_truncated)
    SELECT ${cloneId} || substr(id, length(job_id) + 1), ${cloneId}, task, number, backend, state, queued_at, not_before, worker,
      lease_expires_at, fence, started_at, ended_at, outcome, stop_requested, log_bytes, log_truncated
    FROM attempts, ${series} WHERE job_id = ${src}`.execute(k);
  await sql`INSERT INTO events (time, job_id, type, payload)
    SELECT time, ${cloneId}, type, payload FROM events, ${series} WHERE job_id = ${src} ORDER BY g.i, id`.execute(k);
  await sql`ANALYZE`.execute(k);
}
