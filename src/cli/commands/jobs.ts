// `wharf jobs`, `wharf job ID`, `wharf cancel ID`, `wharf retry ID`.
import { ApiError } from '../../client/types.js';
import type { JobState } from '../../core/states.js';
import { connect } from '../context.js';
import { formatJob, formatJobTable, processOut } from '../output.js';
import { parsePairs } from '../pairs.js';

export interface JobsOptions {
  state?: string;
  label: string[];
  limit: string;
  cursor?: string;
  json?: boolean;
}

export async function jobs(o: JobsOptions): Promise<number> {
  const labels = parsePairs('--label', o.label);
  const limit = Number(o.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new ApiError('invalid', `--limit: expected a whole number ≥ 1, got ${JSON.stringify(o.limit)}`);
  const q: { state?: JobState; labels: Record<string, string>; limit: number; cursor?: string } = { labels, limit };
  if (o.state) q.state = o.state as JobState; // commander checked it against JOB_STATES
  if (o.cursor) q.cursor = o.cursor;
  const ctx = await connect();
  try {
    const page = await ctx.api.listJobs(q);
    if (o.json) processOut.stdout(`${JSON.stringify(page, null, 2)}\n`);
    else {
      processOut.stdout(formatJobTable(page.jobs));
      if (page.nextCursor) processOut.stderr(`wharf: more with --cursor ${page.nextCursor}\n`);
    }
    return 0;
  } finally {
    await ctx.close();
  }
}

export async function job(id: string, o: { json?: boolean }): Promise<number> {
  const ctx = await connect();
  try {
    const j = await ctx.api.getJob(id);
    processOut.stdout(o.json ? `${JSON.stringify(j, null, 2)}\n` : formatJob(j));
    return 0;
  } finally {
    await ctx.close();
  }
}

export async function cancel(id: string): Promise<number> {
  const ctx = await connect();
  try {
    const j = await ctx.api.cancel(id);
    processOut.stdout(`job ${j.id}: ${j.state === 'running' ? 'canceling' : j.state}\n`);
    return 0;
  } finally {
    await ctx.close();
  }
}

export async function retry(id: string): Promise<number> {
  const ctx = await connect();
  try {
    const j = await ctx.api.retry(id);
    processOut.stdout(`job ${j.id}: ${j.state}\n`);
    return 0;
  } finally {
    await ctx.close();
  }
}
