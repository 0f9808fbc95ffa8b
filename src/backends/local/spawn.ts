// The parts of starting a host process that decide what the user is told: where it runs,
// why it could not start, how it ended.
import { formatError } from '../../core/format-error.js';
import { existsSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { constants } from 'node:os';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import type { RunExit } from '../types.js';

/** Like a container image's default PATH: a task that sets none still finds sh, env, … */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export function childEnv(env: Record<string, string>): Record<string, string> {
  return Object.hasOwn(env, 'PATH') ? { ...env } : { ...env, PATH: DEFAULT_PATH };
}

/** The cwd for the process, or why there is none. Relative dirs live in (and are made in) `work`. */
export async function resolveWorkingDir(
  work: string,
  wanted: string | undefined,
): Promise<{ cwd: string } | { error: string }> {
  if (wanted === undefined || wanted === '') return { cwd: work };
  if (isAbsolute(wanted)) {
    let isDir: boolean;
    try {
      isDir = (await stat(wanted)).isDirectory();
    } catch {
      return { error: `working directory not found: ${wanted}` };
    }
    return isDir ? { cwd: wanted } : { error: `working directory is not a directory: ${wanted}` };
  }
  const cwd = resolve(work, wanted);
  const rel = relative(work, cwd);
  if (rel === '..' || rel.startsWith(`..${sep}`)) {
    return { error: `working directory must stay inside the run's directory: ${wanted}` };
  }
  try {
    await mkdir(cwd, { recursive: true });
  } catch (err) {
    return { error: `cannot create working directory ${wanted}: ${formatError(err)}` };
  }
  return { cwd };
}

/** A reason the user can act on for a failed spawn. */
export function spawnFailureReason(err: unknown, command: string, cwd: string): string {
  const code = (err as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      // libuv says ENOENT for a vanished cwd and for a missing #! interpreter too.
      if (!existsSync(cwd)) return `working directory not found: ${cwd}`;
      if (command.includes('/') && existsSync(resolve(cwd, command))) {
        return `cannot run ${command}: its interpreter (#! line) was not found`;
      }
      return `command not found: ${command}`;
    case 'EACCES':
      return `permission denied: ${command}`;
    case 'ENOEXEC':
      return `not an executable: ${command}`;
    case 'E2BIG':
      return `arguments and environment too large to start ${command}`;
    default:
      return `cannot start ${command}: ${formatError(err)}`;
  }
}

/** The exit node reports for the group leader; `undefined` if it reports neither (never invent one). */
export function exitOf(code: number | null, signal: NodeJS.Signals | null): RunExit | undefined {
  if (signal !== null) {
    const signals: Partial<Record<string, number>> = constants.signals;
    return { kind: 'signaled', signal: signals[signal] ?? 0, signalName: signal };
  }
  if (code !== null) return { kind: 'exited', code };
  return undefined;
}
