// queueStats: counts for /metrics, all aggregates: jobs and tasks by state (each a scan of its
// state index), and queued and running attempts by backend, read through the partial indexes
// (which hold live attempts only), one query each so each can match its index.
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import { JOB_STATES, TASK_STATES } from '../../core/states.js';
import type { BackendName } from '../../spec/schema.js';
import type { BackendQueueStats, QueueStats } from '../types.js';
import type { Tables } from './tables.js';

/** Four reads: call it inside PgDb.read for one snapshot. */
export async function queueStats(k: Kysely<Tables>, now: number): Promise<QueueStats> {
  const jobs = Object.fromEntries(JOB_STATES.map((s) => [s, 0])) as QueueStats['jobs'];
  const jobRows = await k.selectFrom('jobs').select((eb) => ['state', eb.fn.countAll<number>().as('n')]).groupBy('state').execute();
  for (const r of jobRows) jobs[r.state] = r.n;
  const tasks = Object.fromEntries(TASK_STATES.map((s) => [s, 0])) as QueueStats['tasks'];
  const taskRows = await k.selectFrom('tasks').select((eb) => ['state', eb.fn.countAll<number>().as('n')]).groupBy('state').execute();
  for (const r of taskRows) tasks[r.state] = r.n;

  const backends: QueueStats['backends'] = {};
  const entry = (b: BackendName): BackendQueueStats => {
    const e = backends[b] ?? { claimable: 0, backoff: 0, oldestClaimableAt: null, running: 0 };
    backends[b] = e;
    return e;
  };
  const queued = await sql<{ backend: BackendName; n: number; due: number; oldest: number }>`SELECT backend, count(*) AS n,
      count(*) FILTER (WHERE not_before <= ${now}) AS due, min(not_before) AS oldest
    FROM attempts WHERE state = 'queued' GROUP BY backend`.execute(k);
  for (const r of queued.rows) {
    const b = entry(r.backend);
    b.claimable = r.due;
    b.backoff = r.n - r.due;
    // The oldest queued attempt is the oldest claimable one whenever any is claimable.
    b.oldestClaimableAt = r.due > 0 ? r.oldest : null;
  }
  const running = await sql<{ backend: BackendName; n: number }>`SELECT backend, count(*) AS n
    FROM attempts WHERE state = 'running' GROUP BY backend`.execute(k);
  for (const r of running.rows) entry(r.backend).running = r.n;
  return { jobs, tasks, backends };
}
