// Runs one buildah command: its output lines go to the log, the last stderr lines are kept for
// the error, and an abort stops it: SIGTERM to its process group so it can clean up, SIGKILL
// after a grace period, then whatever of its process tree outlived it (a RUN container can).
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { Tail } from '../docker/progress.js';
import { abortReason } from '../errors.js';
import { alive, killAll, processTree, runcContainers, runcDelete, type Proc } from './process-tree.js';

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The last lines of stderr, indented, for an error message. */
  stderrTail: string;
}

export interface RunOptions {
  log: (line: string) => void;
  signal: AbortSignal;
  killGraceMs: number;
  env?: NodeJS.ProcessEnv;
}

/** Resolves when the process has exited (or rejects with the abort reason, once it has). */
export function runBuildah(bin: string, args: readonly string[], opts: RunOptions): Promise<RunResult> {
  return new Promise<RunResult>((resolve, reject) => {
    if (opts.signal.aborted) return reject(abortReason(opts.signal));
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: opts.env ?? process.env });
    const tail = new Tail(15);
    let spawnError: Error | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    const signalGroup = (sig: NodeJS.Signals): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, sig);
      } catch {
        // already gone
      }
    };
    let tree: Proc[] = [];
    let containers: string[] = [];
    // SIGTERM to the whole group lets buildah and its runtime monitor stop the RUN container and
    // clean up; what is left of the tree (the container may be) is killed once buildah has exited.
    const onAbort = (): void => {
      if (child.pid !== undefined) tree = processTree([child.pid]);
      containers = runcContainers(tree);
      signalGroup('SIGTERM');
      killTimer = setTimeout(() => signalGroup('SIGKILL'), opts.killGraceMs);
    };
    opts.signal.addEventListener('abort', onAbort, { once: true });
    const out = createInterface({ input: child.stdout });
    const err = createInterface({ input: child.stderr });
    out.on('line', (l) => opts.log(l));
    err.on('line', (l) => {
      opts.log(l);
      tail.add(l);
    });
    const closed = Promise.all([new Promise((r) => out.once('close', r)), new Promise((r) => err.once('close', r))]);
    child.once('error', (e) => {
      spawnError = e;
      if (child.pid === undefined) {
        // Never started (e.g. not installed): there may be no close to wait for.
        opts.signal.removeEventListener('abort', onAbort);
        reject(e);
      }
    });
    child.once('close', (code, signal) => {
      opts.signal.removeEventListener('abort', onAbort);
      clearTimeout(killTimer);
      void closed.then(async () => {
        if (opts.signal.aborted) {
          await killAll([...tree, ...processTree(tree.filter(alive).map((p) => p.pid))]);
          // Already gone when buildah had time to clean up; else its state would stay behind.
          for (const id of containers) await runcDelete(id);
          return reject(abortReason(opts.signal));
        }
        if (spawnError) return reject(spawnError);
        resolve({ code, signal, stderrTail: tail.text() });
      });
    });
  });
}
