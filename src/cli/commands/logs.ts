// `wharf logs ID [TASK] [-f]`: one task's output as it was written, or every task's prefixed.
import { ApiError } from '../../client/types.js';
import { connect } from '../context.js';
import { wholeNumber } from '../flags.js';
import { PrefixedLogPrinter, processOut, rawLog } from '../output.js';

export async function logs(id: string, task: string | undefined, o: { follow?: boolean; attempt?: string }): Promise<number> {
  const attempt = o.attempt === undefined ? undefined : wholeNumber('--attempt', o.attempt, 1);
  const ctx = await connect();
  try {
    const job = await ctx.api.getJob(id);
    if (task !== undefined && !job.tasks.some((t) => t.name === task)) {
      throw new ApiError('not_found', `job ${id} has no task "${task}"; its tasks: ${job.tasks.map((t) => t.name).join(', ')}`);
    }
    const printer = task === undefined ? new PrefixedLogPrinter(processOut, job.tasks.map((t) => t.name)) : undefined;
    const show = (e: Parameters<typeof rawLog>[1]): void => {
      if (attempt !== undefined && e.attempt !== attempt) return;
      if (printer) printer.write(e);
      else rawLog(processOut, e);
    };
    if (o.follow) {
      await ctx.runHere(id);
      for await (const e of ctx.api.followLogs(id, task)) show(e);
    } else {
      let after: number | undefined;
      for (;;) {
        const q: { task?: string; attempt?: number; after?: number } = {};
        if (task !== undefined) q.task = task;
        if (attempt !== undefined) q.attempt = attempt;
        if (after !== undefined) q.after = after;
        const page = await ctx.api.readLogs(id, q);
        for (const e of page.entries) show(e);
        if (page.nextAfter === null) break;
        after = page.nextAfter;
      }
    }
    printer?.flush();
    return 0;
  } finally {
    await ctx.close();
  }
}
