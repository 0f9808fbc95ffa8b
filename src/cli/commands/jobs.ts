// `wharf jobs`, `wharf job ID`, `wharf cancel ID`, `wharf retry ID`.
import type { JobState } from '../../core/states.js';
import { withApi } from '../context.js';
import { formatJob, formatJobTable, processOut } from '../output.js';
import { parsePairs, wholeNumber } from '../flags.js';

export interface JobsOptions {
  state?: string;
  label: string[];
  limit: string;
  cursor?: string;
  json?: boolean;
}

export async function jobs(o: JobsOptions): Promise<number> {
  const labels = parsePairs('--label', o.label);
  const limit = wholeNumber('--limit', o.limit, 1);
  const q: { state?: JobState; labels: Record<string, string>; limit: number; cursor?: string } = { labels, limit };
  if (o.state) q.state = o.state as JobState; // commander checked it against JOB_STATES
  if (o.cursor) q.cursor = o.cursor;
  const page = await withApi((api) => api.listJobs(q));
  if (o.json) processOut.stdout(`${JSON.stringify(page, null, 2)}\n`);
  else {
    processOut.stdout(formatJobTable(page.jobs));
    if (page.nextCursor) processOut.stderr(`wharf: more with --cursor ${page.nextCursor}\n`);
  }
  return 0;
}

export async function job(id: string, o: { json?: boolean }): Promise<number> {
  const j = await withApi((api) => api.getJob(id));
  processOut.stdout(o.json ? `${JSON.stringify(j, null, 2)}\n` : formatJob(j));
  return 0;
}

export async function cancel(id: string): Promise<number> {
  const j = await withApi((api) => api.cancel(id));
  processOut.stdout(`job ${j.id}: ${j.state === 'running' ? 'canceling' : j.state}\n`);
  return 0;
}

export async function retry(id: string): Promise<number> {
  const j = await withApi((api) => api.retry(id));
  processOut.stdout(`job ${j.id}: ${j.state}\n`);
  return 0;
}
