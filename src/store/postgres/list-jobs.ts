// listJobs: newest first, filtered by state and labels, paged by an opaque cursor (SQLite's).
import { sql, type Kysely, type SqlBool } from 'kysely';
import type { JobList } from '../../spec/api.js';
import { decodeCursor, encodeCursor } from '../sqlite/list-jobs.js';
import { SUMMARY_COLUMNS, summaryOf } from '../sqlite/views.js';
import type { JobQuery } from '../types.js';
import type { Tables } from './tables.js';

/** Two reads: call it inside PgDb.read for one snapshot. */
export async function listJobs(k: Kysely<Tables>, q: JobQuery): Promise<JobList> {
  const limit = Math.max(1, Math.floor(q.limit));
  let query = k.selectFrom('jobs').select(SUMMARY_COLUMNS).orderBy('seq', 'desc').limit(limit + 1);
  if (q.state !== undefined) query = query.where('state', '=', q.state);
  if (q.cursor !== undefined) query = query.where('seq', '<', decodeCursor(q.cursor));
  const labels = q.labels ?? {};
  // Containment: every pair present with that (string) value. Keys hold "." and "/", which
  // JSON paths would misread.
  if (Object.keys(labels).length > 0) query = query.where(sql<SqlBool>`labels::jsonb @> ${JSON.stringify(labels)}::jsonb`);
  const rows = await query.execute();
  const page = rows.slice(0, limit);
  const counts = new Map<string, Record<string, number>>();
  if (page.length > 0) {
    const grouped = await k.selectFrom('tasks')
      .select((eb) => ['job_id', 'state', eb.fn.countAll<number>().as('n')])
      .where(sql<SqlBool>`job_id = any(${page.map((r) => r.id)}::text[])`).groupBy(['job_id', 'state']).execute();
    for (const g of grouped) {
      const c = counts.get(g.job_id) ?? {};
      c[g.state] = g.n;
      counts.set(g.job_id, c);
    }
  }
  const last = page.at(-1);
  return {
    jobs: page.map((r) => summaryOf(r, counts.get(r.id) ?? {})),
    nextCursor: rows.length > limit && last ? encodeCursor(last.seq) : null,
  };
}
