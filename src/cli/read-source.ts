// Reads a job file (or stdin for "-") and tells its format from the extension when it can.
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { ApiError, type JobSource } from '../client/types.js';
import { formatError } from '../core/format-error.js';

export async function readJobSource(file: string): Promise<JobSource> {
  let text: string;
  try {
    text = file === '-' ? await readStdin() : await readFile(file, 'utf8');
  } catch (e) {
    throw new ApiError('invalid', `cannot read ${file}: ${formatError(e)}`);
  }
  const ext = extname(file).toLowerCase();
  if (ext === '.json') return { text, format: 'json' };
  if (ext === '.yaml' || ext === '.yml') return { text, format: 'yaml' };
  return { text };
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
