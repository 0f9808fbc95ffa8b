// `wharf run -- CMD ARGS…`: one task, output as it comes, and the task's own exit status
// (128+N when killed by signal N, 124 timed out, 125 when Wharf could not start it, 130 canceled).
import { basename } from 'node:path';
import { exitStatusOf } from '../../core/states.js';
import { connect } from '../context.js';
import { reportError } from '../errors.js';
import { followJob } from '../follow.js';
import { processOut } from '../output.js';
import { parsePairs } from '../flags.js';

export interface RunOptions {
  backend?: string;
  image?: string;
  env: string[];
  timeout?: string;
  name?: string;
}

export async function run(command: string[], o: RunOptions): Promise<number> {
  let env: Record<string, string>;
  try {
    env = parsePairs('--env', o.env);
  } catch (e) {
    return reportError(e, 125);
  }
  const task: Record<string, unknown> = { command, env };
  if (o.backend) task.backend = o.backend;
  if (o.image) task.image = o.image;
  if (o.timeout) task.timeout = o.timeout;
  const spec = { name: o.name ?? (basename(command[0] ?? 'run').slice(0, 128) || 'run'), tasks: { main: task } };

  const ctx = await connect();
  try {
    const job = await ctx.api.submit({ text: JSON.stringify(spec), format: 'json' });
    await ctx.runHere(job.id);
    // Ctrl-C cancels the task (it is stopped with its grace period) and we exit 130.
    const onSigint = (): void => { void ctx.api.cancel(job.id).catch((e: unknown) => reportError(e)); };
    process.on('SIGINT', onSigint);
    try {
      const end = await followJob(ctx.api, job, processOut, { prefix: false, events: false });
      if (end.state === 'canceled') return 130;
      const attempts = end.tasks[0]?.attempts ?? [];
      const last = attempts[attempts.length - 1];
      if (!last?.outcome) return 125;
      return exitStatusOf(last.outcome);
    } finally {
      process.off('SIGINT', onSigint);
    }
  } catch (e) {
    return reportError(e, 125);
  } finally {
    await ctx.close();
  }
}
