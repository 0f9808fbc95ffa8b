// What the long-running commands (`wharf serve`, `wharf worker`) share: the database they open,
// their log level, and the worker settings both take.
import { readFile } from 'node:fs/promises';
import { ApiError } from '../client/types.js';
import { formatError } from '../core/format-error.js';
import { LOG_LEVELS, type Log, type LogLevel } from '../core/log.js';
import { memoryBytes } from '../spec/plan.js';
import { MEMORY_RE } from '../spec/schema.js';
import { duration, wholeNumber } from './flags.js';

export interface DbFlags {
  db?: string;
  dbFile?: string;
}

/**
 * --db, else --db-file's content, else WHARF_DB. A password given on the command line is hidden
 * from `ps` (the process title becomes `title`).
 */
export async function dbSetting(o: DbFlags, log: Log, title: string): Promise<string | undefined> {
  if (o.db !== undefined) {
    if (/^postgres(ql)?:\/\/[^/@]*:[^/@]*@/.test(o.db)) {
      // Linux shows the rewritten title in ps in place of the command line.
      process.title = title;
      log.warn('a database password on the command line can be read by other users; use WHARF_DB or --db-file');
    }
    return o.db;
  }
  if (o.dbFile !== undefined) {
    try {
      return (await readFile(o.dbFile, 'utf8')).trim();
    } catch (e) {
      throw new ApiError('invalid', `--db-file: cannot read ${o.dbFile}: ${formatError(e)}`);
    }
  }
  return process.env.WHARF_DB || undefined;
}

export function logLevel(v: string | undefined): LogLevel {
  const level = v ?? process.env.WHARF_LOG_LEVEL ?? 'info';
  if ((LOG_LEVELS as readonly string[]).includes(level)) return level as LogLevel;
  throw new ApiError('invalid', `--log-level (WHARF_LOG_LEVEL): expected one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(level)}`);
}

export interface WorkerFlags {
  concurrency?: string;
  lease: string;
  grace: string;
  logCap?: string;
  heartbeat?: string;
}

export interface WorkerSettings {
  leaseMs: number;
  graceMs: number;
  concurrency?: number;
  logCapBytes?: number;
}

export function workerSettings(o: WorkerFlags): WorkerSettings {
  const w: WorkerSettings = { leaseMs: duration('--lease', o.lease), graceMs: duration('--grace', o.grace) };
  if (o.concurrency !== undefined) w.concurrency = wholeNumber('--concurrency', o.concurrency, 1);
  if (o.logCap !== undefined) {
    if (!MEMORY_RE.test(o.logCap)) throw new ApiError('invalid', `--log-cap: expected a size such as "64Mi", got ${JSON.stringify(o.logCap)}`);
    w.logCapBytes = memoryBytes(o.logCap);
  }
  return w;
}

/** --heartbeat, else WHARF_HEARTBEAT; undefined: the default (WORKER_HEARTBEAT_MS). */
export function heartbeatSetting(v: string | undefined): number | undefined {
  const h = v ?? (process.env.WHARF_HEARTBEAT || undefined);
  if (h === undefined) return undefined;
  const ms = duration('--heartbeat (WHARF_HEARTBEAT)', h);
  if (ms < 1) throw new ApiError('invalid', `--heartbeat (WHARF_HEARTBEAT): expected a duration above zero, got ${JSON.stringify(h)}`);
  return ms;
}
