// Reads a job file (or stdin for "-") and tells its format from the extension when it can.
// Host paths in it (build contexts, inputs, outputs) are relative to the file, so they are made
// absolute here: the server may run elsewhere and has no idea where the file was.
import { readFile } from 'node:fs/promises';
import { dirname, extname, isAbsolute, resolve } from 'node:path';
import { ApiError, type JobSource } from '../client/types.js';
import { formatError } from '../core/format-error.js';
import { parseJob } from '../spec/parse.js';
import type { JobSpec } from '../spec/schema.js';

export async function readJobSource(file: string): Promise<JobSource> {
  let text: string;
  try {
    text = file === '-' ? await readStdin() : await readFile(file, 'utf8');
  } catch (e) {
    throw new ApiError('invalid', `cannot read ${file}: ${formatError(e)}`);
  }
  const ext = extname(file).toLowerCase();
  const source: JobSource = ext === '.json' ? { text, format: 'json' } : ext === '.yaml' || ext === '.yml' ? { text, format: 'yaml' } : { text };
  return withAbsolutePaths(source, file === '-' ? process.cwd() : dirname(resolve(file)));
}

/**
 * The source with relative host paths resolved against `base`. A file with errors goes as it is,
 * so that the server reports them with their lines and columns.
 */
export function withAbsolutePaths(source: JobSource, base: string): JobSource {
  const r = parseJob(source.text, source.format ? { format: source.format } : {});
  if (!r.ok) return source;
  let changed = false;
  const abs = (p: string): string => {
    if (isAbsolute(p)) return p;
    changed = true;
    return resolve(base, p);
  };
  const tasks: JobSpec['tasks'] = {};
  for (const [name, t] of Object.entries(r.spec.tasks)) {
    tasks[name] = {
      ...t,
      ...(t.build ? { build: { ...t.build, context: abs(t.build.context) } } : {}),
      ...(t.inputs ? { inputs: t.inputs.map((c) => ({ ...c, from: abs(c.from) })) } : {}),
      ...(t.outputs ? { outputs: t.outputs.map((c) => ({ ...c, to: abs(c.to) })) } : {}),
    };
  }
  return changed ? { text: JSON.stringify({ ...r.spec, tasks }), format: 'json' } : source;
}

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
