// Follows a job to its end: its logs and (optionally) its state changes, concurrently.
import type { WharfApi } from '../client/types.js';
import type { JobView } from '../spec/api.js';
import { formatEvent, PrefixedLogPrinter, rawLog, type Out } from './output.js';

export interface FollowJobOptions {
  /** Prefix each line with its task (several tasks) or write output as it came (`wharf run`). */
  prefix: boolean;
  /** Print state changes to stderr. */
  events: boolean;
  signal?: AbortSignal;
}

export async function followJob(api: WharfApi, job: JobView, out: Out, o: FollowJobOptions): Promise<JobView> {
  const printer = o.prefix ? new PrefixedLogPrinter(out, job.tasks.map((t) => t.name)) : undefined;
  const logs = (async () => {
    for await (const e of api.followLogs(job.id, undefined, { signal: o.signal })) {
      if (printer) printer.write(e);
      else rawLog(out, e);
    }
    printer?.flush();
  })();
  const events = o.events
    ? (async () => {
        for await (const e of api.followEvents({ jobId: job.id, signal: o.signal })) {
          const line = formatEvent(e);
          if (line) out.stderr(`wharf: ${line}\n`);
        }
      })()
    : Promise.resolve();
  await Promise.all([logs, events]);
  return api.getJob(job.id);
}

/** `wharf submit --follow` and `wharf logs -f` exit codes: 0 succeeded, 1 failed, 130 canceled. */
export function jobExitCode(job: JobView): number {
  if (job.state === 'succeeded') return 0;
  if (job.state === 'canceled') return 130;
  return 1;
}
