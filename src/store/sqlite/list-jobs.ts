// listJobs: newest first, filtered by state and labels, paged by an opaque cursor.
import { sql as raw, type SqlBool } from 'kysely';
import type { JobList } from '../../spec/api.js';
import type { JobQuery } from '../types.js';
import type { Sql } from './db.js';
import { SUMMARY_COLUMNS, summaryOf } from './views.js';

/** The cursor is the sequence of the last job shown; encoded so clients do not build their own. */
export function encodeCursor(seq: number): string {
  return Buffer.from(`seq:${seq}`).toString('base64url');
}

export function decodeCursor(cursor: string): number {
  const m = /^seq:(\d+)$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!m) throw new RangeError(`invalid cursor ${JSON.stringify(cursor)}`);
  return Number(m[1]);
}

export function listJobs(sql: Sql, q: JobQuery): JobList {
  const limit = Math.max(1, Math.floor(q.limit));
  let query = sql.k.selectFrom('jobs').select(SUMMARY_COLUMNS).orderBy('seq', 'desc').limit(limit + 1);
  if (q.state !== undefined) query = query.where('state', '=', q.state);
  if (q.cursor !== undefined) query = query.where('seq', '<', decodeCursor(q.cursor));
  for (const [key, value] of Object.entries(q.labels ?? {})) {
    // json_each rather than a JSON path: label keys hold "." and "/", which paths would misread.
    query = query.where(raw<SqlBool>`exists (select 1 from json_each(jobs.labels) as l where l.key = ${key} and l.value = ${value})`);
  }
  const rows = sql.all(query);
  const page = rows.slice(0, limit);
  const counts = new Map<string, Record<string, number>>();
  if (page.length > 0) {
    const grouped = sql.all(sql.k.selectFrom('tasks')
      .select((eb) => ['job_id', 'state', eb.fn.countAll<number>().as('n')])
      .where('job_id', 'in', page.map((r) => r.id)).groupBy(['job_id', 'state']));
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
