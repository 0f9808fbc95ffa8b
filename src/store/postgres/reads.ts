// Plain reads: logs, attempt states, job and task states, the next claimable time. Each is one
// statement, so one snapshot without a transaction.
import { sql, type Kysely } from 'kysely';
import type { JobState, TaskState } from '../../core/states.js';
import type { LogEntry } from '../../spec/api.js';
import type { BackendName } from '../../spec/schema.js';
import type { LogQuery } from '../types.js';
import { idIn } from './apply.js';
import type { AttemptsTable, Tables } from './tables.js';

export async function readLogs(k: Kysely<Tables>, q: LogQuery): Promise<LogEntry[]> {
  let query = k.selectFrom('logs').select(['id', 'task', 'attempt', 'stream', 'time', 'text'])
    .where('job_id', '=', q.jobId).orderBy('id').limit(Math.max(1, Math.floor(q.limit)));
  if (q.task !== undefined) query = query.where('task', '=', q.task);
  if (q.attempt !== undefined) query = query.where('attempt', '=', q.attempt);
  if (q.after !== undefined) query = query.where('id', '>', q.after);
  const rows = await query.execute();
  return rows.map((r) => ({ ...r, text: r.text.toString('utf8') }));
}

type AttemptState = { state: AttemptsTable['state']; leaseExpiresAt: number | null };

export async function attemptStates(k: Kysely<Tables>, ids: readonly string[]): Promise<Map<string, AttemptState>> {
  const out = new Map<string, AttemptState>();
  if (ids.length === 0) return out;
  const rows = await k.selectFrom('attempts').select(['id', 'state', 'lease_expires_at']).where(idIn(ids)).execute();
  for (const r of rows) out.set(r.id, { state: r.state, leaseExpiresAt: r.lease_expires_at });
  return out;
}

export async function getStates(k: Kysely<Tables>, jobId: string, task: string | undefined): Promise<{ job: JobState; task: TaskState | undefined } | undefined> {
  const row = await sql<{ job: JobState; task: TaskState | null }>`SELECT j.state AS job,
      (SELECT t.state FROM tasks t WHERE t.job_id = j.id AND t.name = ${task ?? null}) AS task
    FROM jobs j WHERE j.id = ${jobId}`.execute(k);
  const r = row.rows[0];
  if (!r) return undefined;
  return { job: r.job, task: r.task ?? undefined };
}

/** Per backend, so each minimum is the first entry of its part of attempts_to_claim. */
export async function nextQueuedAt(k: Kysely<Tables>, backends: readonly BackendName[]): Promise<number | undefined> {
  if (backends.length === 0) return undefined;
  const r = await sql<{ t: number | null }>`SELECT min(q.t) AS t FROM unnest(${backends}::text[]) AS b(backend),
    LATERAL (SELECT min(not_before) AS t FROM attempts WHERE state = 'queued' AND backend = b.backend) AS q`.execute(k);
  return r.rows[0]?.t ?? undefined;
}
