// Rows → the API's views (the mapping is SQLite's: the rows have the same shape).
import type { Kysely } from 'kysely';
import type { AttemptView, JobView, TaskView } from '../../spec/api.js';
import type { JobSpec } from '../../spec/schema.js';
import { attemptView, SUMMARY_COLUMNS, summaryOf } from '../sqlite/views.js';
import type { Tables } from './tables.js';

/** Three reads: call it inside a transaction (a write's, or PgDb.read) for one snapshot. */
export async function getJobView(k: Kysely<Tables>, id: string): Promise<JobView | undefined> {
  const job = await k.selectFrom('jobs').select([...SUMMARY_COLUMNS, 'spec']).where('id', '=', id).executeTakeFirst();
  if (!job) return undefined;
  const tasks = await k.selectFrom('tasks').select(['name', 'state', 'needs', 'backend']).where('job_id', '=', id).orderBy('position').execute();
  const attempts = await k.selectFrom('attempts').selectAll().where('job_id', '=', id).orderBy('task').orderBy('number').execute();
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
