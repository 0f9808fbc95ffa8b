// queueStats: counts for /metrics, from three aggregates that read indexes only, never rows:
// jobs_by_state and tasks_by_state (each scanned whole: cost grows with the jobs kept), and
// attempts_to_claim over the queued and running attempts alone.
import { JOB_STATES, TASK_STATES } from '../../core/states.js';
import type { BackendQueueStats, QueueStats } from '../types.js';
import type { Sql } from './db.js';

export function queueStats(sql: Sql, now: number): QueueStats {
  const jobs = Object.fromEntries(JOB_STATES.map((s) => [s, 0])) as QueueStats['jobs'];
  for (const r of sql.all(sql.k.selectFrom('jobs').select((eb) => ['state', eb.fn.countAll<number>().as('n')]).groupBy('state'))) {
    jobs[r.state] = r.n;
  }
  const tasks = Object.fromEntries(TASK_STATES.map((s) => [s, 0])) as QueueStats['tasks'];
  for (const r of sql.all(sql.k.selectFrom('tasks').select((eb) => ['state', eb.fn.countAll<number>().as('n')]).groupBy('state'))) {
    tasks[r.state] = r.n;
  }

  const backends: QueueStats['backends'] = {};
  const live = sql.all(sql.k.selectFrom('attempts')
    .select((eb) => [
      'state', 'backend', eb.fn.countAll<number>().as('n'),
      eb.fn.sum<number>(eb.case().when('not_before', '<=', now).then(1).else(0).end()).as('due'),
      eb.fn.min('not_before').as('oldest'),
    ])
    .where('state', 'in', ['queued', 'running']).groupBy(['state', 'backend']));
  for (const r of live) {
    const b: BackendQueueStats = backends[r.backend] ?? { claimable: 0, backoff: 0, oldestClaimableAt: null, running: 0 };
    backends[r.backend] = b;
    if (r.state === 'running') {
      b.running = r.n;
      continue;
    }
    const due = Number(r.due);
    b.claimable = due;
    b.backoff = r.n - due;
    // The oldest queued attempt is the oldest claimable one whenever any is claimable.
    b.oldestClaimableAt = due > 0 ? r.oldest : null;
  }
  return { jobs, tasks, backends };
}
