// Rows → the API's views (the mapping is SQLite's: the rows have the same shape).
import { sql, type Kysely } from 'kysely';
import type { AttemptView, JobView, TaskView } from '../../spec/api.js';
import type { JobSpec } from '../../spec/schema.js';
import { runPrepared } from './prepared.js';
import { attemptView, summaryOf, type SummaryRow } from '../sqlite/views.js';
import type { AttemptsTable, TasksTable, Tables } from './tables.js';

type ViewRow = SummaryRow & {
  spec: string;
  tasks: Pick<TasksTable, 'name' | 'state' | 'needs' | 'backend'>[];
  /** row_to_json of each attempt: the column names and values of a row read directly. */
  attempts: AttemptsTable[];
};

/**
 * The job, its tasks and its attempts in one statement: one round trip (a submit answers with
 * this view) and one snapshot, so no transaction is needed around it.
 */
export async function getJobView(k: Kysely<Tables>, id: string): Promise<JobView | undefined> {
  const { rows } = await runPrepared(k, sql<ViewRow>`SELECT j.seq, j.id, j.name, j.labels, j.state, j.cancel_requested, j.created_at, j.updated_at,
      j.ended_at, j.spec,
      (SELECT coalesce(json_agg(json_build_object('name', t.name, 'state', t.state, 'needs', t.needs, 'backend', t.backend)
         ORDER BY t.position), '[]') FROM tasks AS t WHERE t.job_id = j.id) AS tasks,
      (SELECT coalesce(json_agg(a ORDER BY a.task, a.number), '[]') FROM attempts AS a WHERE a.job_id = j.id) AS attempts
    FROM jobs AS j WHERE j.id = ${id}`);
  const job = rows[0];
  if (!job) return undefined;
  const byTask = new Map<string, AttemptView[]>();
  for (const a of job.attempts) {
    const list = byTask.get(a.task) ?? [];
    list.push(attemptView(a));
    byTask.set(a.task, list);
  }
  const counts: Record<string, number> = {};
  const views: TaskView[] = job.tasks.map((t) => {
    counts[t.state] = (counts[t.state] ?? 0) + 1;
    return { name: t.name, state: t.state, needs: JSON.parse(t.needs) as string[], backend: t.backend, attempts: byTask.get(t.name) ?? [] };
  });
  return { ...summaryOf(job, counts), spec: JSON.parse(job.spec) as JobSpec, tasks: views };
}
