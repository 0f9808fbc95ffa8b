// `wharf validate FILE` and `wharf schema`: pure, no store and no server needed.
import { parseJob } from '../../spec/parse.js';
import { jobJsonSchema } from '../../spec/json-schema.js';
import { formatErrors, processOut } from '../output.js';
import { readJobSource } from '../read-source.js';

export async function validate(file: string): Promise<number> {
  const source = await readJobSource(file);
  const r = parseJob(source.text, source.format ? { format: source.format } : undefined);
  if (r.ok) {
    const n = Object.keys(r.spec.tasks).length;
    processOut.stdout(`${file}: valid (${n} task${n === 1 ? '' : 's'})\n`);
    return 0;
  }
  processOut.stderr(`${file}: ${r.errors.length} error${r.errors.length === 1 ? '' : 's'}\n${formatErrors(r.errors)}`);
  return 1;
}

export async function schema(): Promise<number> {
  processOut.stdout(`${JSON.stringify(jobJsonSchema(), null, 2)}\n`);
  return 0;
}
