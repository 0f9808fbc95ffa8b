// A process and everything it started, read from /proc (buildah runs on Linux only), so that an
// aborted build can be killed whole: its RUN container is a grandchild in its own process group
// and session, which a signal to buildah's group does not reach.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export interface Proc {
  pid: number;
  /** Start time in clock ticks since boot: tells a live process from a later one that reuses its pid. */
  start: string;
}

function stat(pid: number): { ppid: number; start: string; zombie: boolean } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid …": comm may hold spaces and parentheses, so split after the last ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(fields[1]), start: fields[19] ?? '', zombie: fields[0] === 'Z' };
  } catch {
    return undefined;
  }
}

/** `roots` and all their live descendants. */
export function processTree(roots: readonly number[]): Proc[] {
  const children = new Map<number, number[]>();
  const starts = new Map<number, string>();
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((n) => /^\d+$/.test(n));
  } catch {
    return [];
  }
  for (const name of pids) {
    const pid = Number(name);
    const s = stat(pid);
    if (!s || s.zombie) continue;
    starts.set(pid, s.start);
    const list = children.get(s.ppid);
    if (list) list.push(pid);
    else children.set(s.ppid, [pid]);
  }
  const out: Proc[] = [];
  const seen = new Set<number>();
  const visit = (pid: number): void => {
    if (seen.has(pid)) return;
    seen.add(pid);
    const start = starts.get(pid);
    if (start === undefined) return;
    out.push({ pid, start });
    for (const c of children.get(pid) ?? []) visit(c);
  };
  for (const r of roots) visit(r);
  return out;
}

/** Whether `p` still runs (a zombie or a reused pid does not count). */
export function alive(p: Proc): boolean {
  const s = stat(p.pid);
  return s !== undefined && !s.zombie && s.start === p.start;
}

/** SIGKILLs every process of `procs` still alive, and waits (bounded) until they are gone. */
export async function killAll(procs: readonly Proc[], withinMs = 5_000): Promise<void> {
  for (const p of procs) {
    if (!alive(p)) continue;
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  // No event tells when a process that is not our child dies: look again, briefly and bounded.
  const deadline = Date.now() + withinMs;
  while (procs.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
}

/**
 * The runc containers that processes of `procs` run in: buildah names a RUN step's container and
 * its cgroup `buildah-buildah<N>`.
 */
export function runcContainers(procs: readonly Proc[]): string[] {
  const ids = new Set<string>();
  for (const p of procs) {
    try {
      const m = /\/(buildah-buildah\d+)$/m.exec(readFileSync(`/proc/${p.pid}/cgroup`, 'utf8'));
      if (m?.[1]) ids.add(m[1]);
    } catch {
      // gone
    }
  }
  return [...ids];
}

/** Best effort: removes a killed container's runc state (buildah would have, had it not been killed). */
export function runcDelete(id: string): Promise<void> {
  return new Promise((resolve) => {
    execFile('runc', ['delete', '--force', id], { timeout: 10_000 }, () => resolve());
  });
}
