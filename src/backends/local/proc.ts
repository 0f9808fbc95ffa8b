// Linux process facts read from /proc, and process-group signalling. Synchronous on purpose:
// the start time must be read before the event loop can reap a process that exits at once.
import { readFileSync, readdirSync } from 'node:fs';

export interface ProcStat {
  /** One letter: R, S, D, Z (zombie), T, … */
  state: string;
  pgrp: number;
  /** Field 22, clock ticks since boot: with the pid, it names one process for good. */
  startTime: string;
}

export function readProcStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // Field 2 (comm) may hold spaces and parentheses; everything after the last ')' is plain.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state), so field n is fields[n - 3].
  const state = fields[0];
  const pgrp = Number(fields[2]);
  const startTime = fields[19];
  if (state === undefined || startTime === undefined || !Number.isInteger(pgrp)) return undefined;
  return { state, pgrp, startTime };
}

/** Whether `pid` is still the very process that had `startTime` (a zombie counts as gone). */
export function isSameLiveProcess(pid: number, startTime: string): boolean {
  const st = readProcStat(pid);
  return st !== undefined && st.startTime === startTime && st.state !== 'Z';
}

/** Signals every process of the group led by `pgid`; a group already gone is not an error. */
export function killGroup(pgid: number, signal: NodeJS.Signals): void {
  if (!Number.isInteger(pgid) || pgid <= 1) return; // -1 or -0 would signal far too much
  try {
    process.kill(-pgid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/** For event handlers and timers, where a throw would take the worker down: the failure is moot there. */
export function killGroupQuietly(pgid: number, signal: NodeJS.Signals): void {
  try {
    killGroup(pgid, signal);
  } catch {
    // EPERM: nothing left in the group that is ours to signal.
  }
}

/** Live (non-zombie) pids whose process group is `pgid`. */
export function groupPids(pgid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const st = readProcStat(Number(name));
    if (st && st.pgrp === pgid && st.state !== 'Z') out.push(Number(name));
  }
  return out;
}
