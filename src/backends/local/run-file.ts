// stateDir/runs/<runId>/run.json: what a later process needs to find a run again and to be
// sure a pid still belongs to it.
import { renameSync, writeFileSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Labels } from '../types.js';

export interface RunFile {
  runId: string;
  labels: Labels;
  /** The backend instance that started it (informational). */
  owner: string;
  /** null until spawned, and for good if it never started. */
  pid: number | null;
  /** /proc/<pid>/stat field 22, so a reused pid is never taken for ours. */
  startTime: string | null;
  startedAt: number | null;
}

const RUN_ID_RE = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,199}$/;

/** runIds name directories, so they must be plain names. */
export function validRunId(runId: string): boolean {
  return RUN_ID_RE.test(runId);
}

export function runsDir(stateDir: string): string {
  return join(stateDir, 'runs');
}

export function runDir(stateDir: string, runId: string): string {
  return join(runsDir(stateDir), runId);
}

/** Synchronous so it lands between spawn and the first turn of the event loop. */
export function writeRunFile(dir: string, run: RunFile): void {
  const tmp = join(dir, 'run.json.tmp');
  writeFileSync(tmp, JSON.stringify(run) + '\n');
  renameSync(tmp, join(dir, 'run.json')); // a reader never sees half a file
}

function parse(text: string): RunFile | undefined {
  try {
    const v = JSON.parse(text) as Partial<RunFile>;
    if (typeof v.runId !== 'string' || typeof v.labels !== 'object' || v.labels === null) return undefined;
    return {
      runId: v.runId,
      labels: v.labels,
      owner: typeof v.owner === 'string' ? v.owner : '',
      pid: typeof v.pid === 'number' ? v.pid : null,
      startTime: typeof v.startTime === 'string' ? v.startTime : null,
      startedAt: typeof v.startedAt === 'number' ? v.startedAt : null,
    };
  } catch {
    return undefined;
  }
}

export async function readRunFile(stateDir: string, runId: string): Promise<RunFile | undefined> {
  if (!validRunId(runId)) return undefined;
  try {
    return parse(await readFile(join(runDir(stateDir, runId), 'run.json'), 'utf8'));
  } catch {
    return undefined;
  }
}


export async function listRunIds(stateDir: string): Promise<string[]> {
  try {
    return (await readdir(runsDir(stateDir))).filter(validRunId).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}
