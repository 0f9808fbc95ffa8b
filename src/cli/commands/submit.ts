// `wharf submit FILE|-`: validate and submit a job file; with --follow, watch it to its end.
import { ApiError } from '../../client/types.js';
import { connect } from '../context.js';
import { followJob, jobExitCode } from '../follow.js';
import { processOut } from '../output.js';
import { readJobSource } from '../read-source.js';

export async function submit(file: string, o: { follow?: boolean; json?: boolean; idempotencyKey?: string }): Promise<number> {
  const source = await readJobSource(file);
  const ctx = await connect();
  try {
    let job;
    try {
      job = await ctx.api.submit(source, o.idempotencyKey === undefined ? {} : { idempotencyKey: o.idempotencyKey });
    } catch (e) {
      if (e instanceof ApiError && e.code === 'invalid') throw new ApiError(e.code, `${file}: ${e.message}`, e.details);
      throw e;
    }
    if (o.json) processOut.stdout(`${JSON.stringify(job, null, 2)}\n`);
    else processOut.stderr(`wharf: submitted job ${job.id} (${job.name}, ${job.tasks.length} task${job.tasks.length === 1 ? '' : 's'})\n`);
    if (!o.follow) return 0;
    await ctx.runHere(job.id);
    const end = await followJob(ctx.api, job, processOut, { prefix: true, events: true });
    return jobExitCode(end);
  } finally {
    await ctx.close();
  }
}
