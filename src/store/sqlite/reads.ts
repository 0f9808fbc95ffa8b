// Plain reads: logs, attempt states, job and task states, the next claimable time.
import type { JobState, TaskState } from '../../core/states.js';
import type { LogEntry } from '../../spec/api.js';
import type { BackendName } from '../../spec/schema.js';
import type { LogQuery } from '../types.js';
import type { Sql } from './db.js';
import type { AttemptsTable } from './tables.js';

export function readLogs(sql: Sql, q: LogQuery): LogEntry[] {
  let query = sql.k.selectFrom('logs').select(['id', 'task', 'attempt', 'stream', 'time', 'text'])
    .where('job_id', '=', q.jobId).orderBy('id').limit(Math.max(1, Math.floor(q.limit)));
  if (q.task !== undefined) query = query.where('task', '=', q.task);
  if (q.attempt !== undefined) query = query.where('attempt', '=', q.attempt);
  if (q.after !== undefined) query = query.where('id', '>', q.after);
  return sql.all(query);
}

type AttemptState = { state: AttemptsTable['state']; leaseExpiresAt: number | null };

export function attemptStates(sql: Sql, ids: readonly string[]): Map<string, AttemptState> {
  const out = new Map<string, AttemptState>();
  // In slices, to stay far below SQLite's limit on bound parameters.
  for (let i = 0; i < ids.length; i += 500) {
    const rows = sql.all(sql.k.selectFrom('attempts').select(['id', 'state', 'lease_expires_at'])
      .where('id', 'in', ids.slice(i, i + 500)));
    for (const r of rows) out.set(r.id, { state: r.state, leaseExpiresAt: r.lease_expires_at });
  }
  return out;
}

export function getStates(sql: Sql, jobId: string, task: string | undefined): { job: JobState; task: TaskState | undefined } | undefined {
  const job = sql.get(sql.k.selectFrom('jobs').select('state').where('id', '=', jobId));
  if (!job) return undefined;
  if (task === undefined) return { job: job.state, task: undefined };
  const t = sql.get(sql.k.selectFrom('tasks').select('state').where('job_id', '=', jobId).where('name', '=', task));
  return { job: job.state, task: t?.state };
}

export function nextQueuedAt(sql: Sql, backends: readonly BackendName[]): number | undefined {
  if (backends.length === 0) return undefined;
  const row = sql.get(sql.k.selectFrom('attempts').select((eb) => eb.fn.min('not_before').as('t'))
    .where('state', '=', 'queued').where('backend', 'in', backends));
  return row?.t ?? undefined;
}
