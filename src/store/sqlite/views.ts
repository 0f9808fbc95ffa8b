// Rows → the API's views.
import { exitStatusOf, type AttemptOutcome } from '../../core/states.js';
import type { AttemptView, JobSummary, JobView, TaskView } from '../../spec/api.js';
import type { JobSpec } from '../../spec/schema.js';
import { Query, type Sql } from './db.js';
import type { AttemptsTable, JobsTable } from './tables.js';

export const SUMMARY_COLUMNS = [
  'seq', 'id', 'name', 'labels', 'state', 'cancel_requested', 'created_at', 'updated_at', 'ended_at',
] as const;

export type SummaryRow = Pick<JobsTable, Exclude<(typeof SUMMARY_COLUMNS)[number], 'seq'>> & { seq: number };

export function summaryOf(r: SummaryRow, taskCounts: Record<string, number>): JobSummary {
  return {
    id: r.id,
    name: r.name,
    labels: JSON.parse(r.labels) as Record<string, string>,
    state: r.state,
    cancelRequested: r.cancel_requested === 1,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    endedAt: r.ended_at,
    taskCounts,
  };
}

export function attemptView(r: AttemptsTable): AttemptView {
  const outcome = r.outcome === null ? null : JSON.parse(r.outcome) as AttemptOutcome;
  return {
    id: r.id,
    number: r.number,
    state: r.state,
    backend: r.backend,
    queuedAt: r.queued_at,
    notBefore: r.not_before,
    startedAt: r.started_at,
    endedAt: r.ended_at,
    worker: r.worker,
    outcome,
    exitStatus: outcome === null ? null : exitStatusOf(outcome),
    logBytes: r.log_bytes,
    logTruncated: r.log_truncated === 1,
  };
}

type Id = { id: string };
const JOB = new Query((k, $: Id) => k.selectFrom('jobs').select([...SUMMARY_COLUMNS, 'spec']).where('id', '=', $.id));
const TASKS = new Query((k, $: Id) => k.selectFrom('tasks').select(['name', 'state', 'needs', 'backend'])
  .where('job_id', '=', $.id).orderBy('position'));
const ATTEMPTS = new Query((k, $: Id) => k.selectFrom('attempts').selectAll()
  .where('job_id', '=', $.id).orderBy('task').orderBy('number'));

export function getJobView(sql: Sql, id: string): JobView | undefined {
  const job = sql.get(JOB, { id });
  if (!job) return undefined;
  const tasks = sql.all(TASKS, { id });
  const attempts = sql.all(ATTEMPTS, { id });
  const byTask = new Map<string, AttemptView[]>();
  for (const a of attempts) {
    const list = byTask.get(a.task) ?? [];
    list.push(attemptView(a));
    byTask.set(a.task, list);
  }
  const counts: Record<string, number> = {};
  const views: TaskView[] = tasks.map((t) => {
    counts[t.state] = (counts[t.state] ?? 0) + 1;
    return { name: t.name, state: t.state, needs: JSON.parse(t.needs) as string[], backend: t.backend, attempts: byTask.get(t.name) ?? [] };
  });
  return { ...summaryOf(job, counts), spec: JSON.parse(job.spec) as JobSpec, tasks: views };
}
