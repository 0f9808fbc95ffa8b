// The local backend: every run is a host process leading its own process group, its output
// read through pipes by this process (so runs cannot be adopted by another worker).
import { formatError } from '../../core/format-error.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, rm, rmdir, unlink } from 'node:fs/promises';
import { Socket } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Backend, Labels, OwnedRun, RunEvent, RunExit, RunLogChunk, RunState, StartRequest } from '../types.js';
import { ForeignStops, foreignState } from './foreign.js';
import { OutputQueue } from './output.js';
import { killGroup, killGroupQuietly, readProcStat } from './proc.js';
import { listRunIds, readRunFile, runDir, runsDir, validRunId, writeRunFile, type RunFile } from './run-file.js';
import { childEnv, exitOf, resolveWorkingDir, spawnFailureReason } from './spawn.js';
import { RunListeners } from '../listeners.js';

/** After the leader exits, pipes still open yet silent this long are held by escapees: cut them. */
const STRAGGLER_MS = 2_000;

export interface LocalBackendOptions {
  stateDir: string;
  /** Written into run.json as the owner; defaults to host:pid. */
  instanceId?: string;
}

export interface LocalBackend extends Backend {
  readonly name: 'local';
  readonly canAdopt: false;
  readonly stateDir: string;
}

interface LiveRun {
  runId: string;
  labels: Labels;
  state: RunState;
  output: OutputQueue;
  child?: ChildProcess;
  pid?: number;
  leaderExit?: RunExit;
  /** Set when the run must not be reported as its own exit (e.g. its record could not be written). */
  forcedExit?: RunExit;
  termSent: boolean;
  killTimer?: NodeJS.Timeout;
  killAt?: number;
  stragglerTimer?: NodeJS.Timeout;
  /** stop()/remove() that came before there was a pid to signal. */
  pendingStopMs?: number;
  removed: boolean;
  ended: Promise<void>;
  markEnded: () => void;
}

function matches(labels: Labels, selector: Labels): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

async function* noLogs(): AsyncGenerator<RunLogChunk> {}

const NO_STATUS: RunExit = { kind: 'error', reason: 'the process ended without an exit status' };

class LocalBackendImpl implements LocalBackend {
  readonly name = 'local';
  readonly canAdopt = false;
  private readonly runs = new Map<string, LiveRun>();
  private readonly listeners = new RunListeners();
  private readonly foreign = new ForeignStops();
  private readonly owner: string;
  private closed = false;
  private runsDirReady: Promise<void> | undefined;

  constructor(readonly stateDir: string, instanceId: string | undefined) {
    this.owner = instanceId ?? `${hostname()}:${process.pid}`;
  }

  subscribe(listener: (e: RunEvent) => void): () => void {
    return this.listeners.add(listener);
  }

  private setState(run: LiveRun, state: RunState): void {
    run.state = state;
    const e: RunEvent = { runId: run.runId, state };
    this.listeners.emit(e);
  }

  async start(req: StartRequest): Promise<void> {
    const { runId } = req;
    if (this.closed) throw new Error('the local backend is closed');
    if (!validRunId(runId)) throw new Error(`invalid run id: ${JSON.stringify(runId)}`);
    if (this.runs.has(runId)) throw new Error(`run ${runId} already exists`);
    let markEnded = (): void => {};
    const ended = new Promise<void>((r) => { markEnded = r; });
    const run: LiveRun = {
      runId, labels: { ...req.labels }, state: { phase: 'starting' }, output: new OutputQueue(runId),
      termSent: false, removed: false, ended, markEnded,
    };
    this.runs.set(runId, run);
    const dir = runDir(this.stateDir, runId);
    const work = join(dir, 'work');
    try {
      this.runsDirReady ??= mkdir(runsDir(this.stateDir), { recursive: true }).then(() => undefined);
      await this.runsDirReady;
      // Not recursive: an existing dir means a run by this name exists already.
      await mkdir(dir).catch(async (e: NodeJS.ErrnoException) => {
        if (e.code !== 'ENOENT') throw e;
        await mkdir(runsDir(this.stateDir), { recursive: true }); // someone removed runs/ meanwhile
        await mkdir(dir);
      });
      await mkdir(work);
      writeRunFile(dir, this.record(run, null, null, null));
    } catch (err) {
      this.runs.delete(runId);
      run.markEnded(); // a remove() waiting on it must not hang
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new Error(`run ${runId} already exists; remove it first`);
      throw err;
    }
    const [command, ...args] = req.plan.command;
    if (command === undefined || command === '') return this.failStart(run, 'no command given');
    if (req.secrets?.files.length) {
      return this.failStart(run, `secret files (${req.secrets.files.map((f) => f.path).join(', ')}) need a container backend (docker, kubernetes); on the local backend give secrets as env`);
    }
    const wd = await resolveWorkingDir(work, req.plan.workingDir);
    if (run.removed) return this.failStart(run, 'removed before it started');
    if ('error' in wd) return this.failStart(run, wd.error);

    let child: ChildProcess;
    try {
      // detached: the process leads its own group, so stop() reaches everything it spawned.
      // Secrets are plain environment variables here: a host process has nowhere safer to get them.
      const env = childEnv({ ...req.env, ...req.secrets?.env });
      child = spawn(command, args, { cwd: wd.cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      return this.failStart(run, spawnFailureReason(err, command, wd.cwd));
    }
    if (child.pid === undefined) {
      // Node follows the 'error' with an exit (code -2 for ENOENT): only the error is the truth.
      const err = await new Promise<unknown>((r) => child.once('error', r));
      return this.failStart(run, spawnFailureReason(err, command, wd.cwd));
    }
    this.started(run, child, child.pid, dir);
  }

  /** Synchronous from spawn to here: the process cannot have been reaped before its start time is read. */
  private started(run: LiveRun, child: ChildProcess, pid: number, dir: string): void {
    run.child = child;
    run.pid = pid;
    const startedAt = Date.now();
    try {
      writeRunFile(dir, this.record(run, pid, readProcStat(pid)?.startTime ?? null, startedAt));
    } catch (err) {
      // Unrecorded, it would be lost if this worker died: end it rather than leave it untracked.
      run.forcedExit = { kind: 'error', reason: `cannot record the run: ${formatError(err)}` };
      killGroupQuietly(pid, 'SIGKILL');
    }
    child.on('error', () => {}); // only kill()/send() errors come here later; we use neither
    child.stdout?.on('error', () => {});
    child.stderr?.on('error', () => {});
    if (child.stdout) run.output.attach('stdout', child.stdout);
    if (child.stderr) run.output.attach('stderr', child.stderr);
    child.on('exit', (code, signal) => this.onLeaderExit(run, code, signal));
    child.on('close', () => this.onClosed(run));
    this.setState(run, { phase: 'running', startedAt });
    if (run.removed) this.killNow(run);
    else if (run.pendingStopMs !== undefined) this.signalStop(run, run.pendingStopMs);
  }

  private record(run: LiveRun, pid: number | null, startTime: string | null, startedAt: number | null): RunFile {
    return { runId: run.runId, labels: run.labels, owner: this.owner, pid, startTime, startedAt };
  }

  private failStart(run: LiveRun, reason: string): void {
    this.setState(run, { phase: 'ended', exit: { kind: 'start_failed', reason }, endedAt: Date.now() });
    run.output.end();
    run.markEnded();
  }

  private onLeaderExit(run: LiveRun, code: number | null, signal: NodeJS.Signals | null): void {
    run.leaderExit = run.forcedExit ?? exitOf(code, signal) ?? NO_STATUS;
    clearTimeout(run.killTimer);
    run.killTimer = undefined;
    // The rest of its group would otherwise hold the pipes open (sh -c 'sleep 100 & exit 0').
    if (run.pid !== undefined) killGroupQuietly(run.pid, 'SIGKILL');
    let seen = run.output.received;
    const watch = (): void => {
      if (run.output.isPaused || run.output.received !== seen) {
        seen = run.output.received;
        run.stragglerTimer = setTimeout(watch, STRAGGLER_MS);
        return;
      }
      run.child?.stdout?.destroy();
      run.child?.stderr?.destroy();
    };
    run.stragglerTimer = setTimeout(watch, STRAGGLER_MS);
  }

  /** Leader gone and both pipes at EOF: every byte the run wrote is now in its output queue. */
  private onClosed(run: LiveRun): void {
    clearTimeout(run.stragglerTimer);
    this.setState(run, { phase: 'ended', exit: run.leaderExit ?? NO_STATUS, endedAt: Date.now() });
    run.output.end(); // after the event: a following reader ends only once `ended` is out
    run.markEnded();
  }

  async inspect(runId: string): Promise<RunState | undefined> {
    const live = this.runs.get(runId);
    if (live) return live.state;
    const rf = await readRunFile(this.stateDir, runId);
    return rf && foreignState(rf);
  }

  /**
   * Live output, consumed as it is read: one reader at a time (a second concurrent one gets an
   * error), and what a reader took is gone. Runs this process did not start have none.
   */
  logs(runId: string, opts: { follow: boolean }): AsyncIterable<RunLogChunk> {
    const live = this.runs.get(runId);
    return live ? live.output.read(opts.follow) : noLogs();
  }

  async stop(runId: string, graceMs: number): Promise<void> {
    const live = this.runs.get(runId);
    if (live) return this.signalStop(live, graceMs);
    const rf = await readRunFile(this.stateDir, runId);
    if (rf) this.foreign.stop(rf, graceMs);
  }

  private signalStop(run: LiveRun, graceMs: number): void {
    if (run.state.phase === 'ended' || run.leaderExit) return;
    if (run.pid === undefined) {
      run.pendingStopMs = Math.min(run.pendingStopMs ?? Infinity, graceMs);
      return;
    }
    const pid = run.pid;
    if (!run.termSent) {
      run.termSent = true;
      killGroup(pid, 'SIGTERM');
    }
    const at = Date.now() + Math.max(0, graceMs);
    if (run.killAt !== undefined && run.killAt <= at) return; // an earlier escalation stands
    clearTimeout(run.killTimer);
    run.killAt = at;
    run.killTimer = setTimeout(() => {
      run.killTimer = undefined;
      if (!run.leaderExit) killGroupQuietly(pid, 'SIGKILL');
    }, Math.max(0, graceMs));
  }

  /** SIGKILL now, and stop waiting for its output: nobody will read it. */
  private killNow(run: LiveRun): void {
    clearTimeout(run.killTimer);
    run.killTimer = undefined;
    if (run.pid !== undefined && !run.leaderExit) killGroupQuietly(run.pid, 'SIGKILL');
    run.output.discard();
    run.child?.stdout?.destroy();
    run.child?.stderr?.destroy();
  }

  async remove(runId: string): Promise<void> {
    if (!validRunId(runId)) return;
    const live = this.runs.get(runId);
    if (live) {
      live.removed = true;
      this.killNow(live);
      await live.ended; // its 'ended' event still goes out, so no listener waits forever
      this.runs.delete(runId);
    } else {
      const rf = await readRunFile(this.stateDir, runId);
      if (rf) this.foreign.kill(rf);
      this.foreign.cancel(runId);
    }
    await removeRunDir(runDir(this.stateDir, runId));
  }

  async listOwned(selector: Labels): Promise<OwnedRun[]> {
    const out: OwnedRun[] = [];
    const seen = new Set<string>();
    for (const runId of await listRunIds(this.stateDir)) {
      seen.add(runId);
      const live = this.runs.get(runId);
      if (live) {
        if (matches(live.labels, selector)) out.push({ runId, labels: { ...live.labels }, state: live.state });
        continue;
      }
      const rf = await readRunFile(this.stateDir, runId);
      if (rf && rf.runId === runId && matches(rf.labels, selector)) out.push({ runId, labels: rf.labels, state: foreignState(rf) });
    }
    for (const live of this.runs.values()) {
      if (!seen.has(live.runId) && matches(live.labels, selector)) {
        out.push({ runId: live.runId, labels: { ...live.labels }, state: live.state });
      }
    }
    return out;
  }

  /** Stops listening and no longer holds the event loop open for runs; they are not killed. */
  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    for (const run of this.runs.values()) {
      run.child?.unref();
      for (const s of [run.child?.stdout, run.child?.stderr]) if (s instanceof Socket) s.unref();
    }
  }
}

/**
 * Most runs leave an empty work/ and run.json: three direct calls remove them, far cheaper than
 * a recursive walk, which stays the fallback for anything else.
 */
async function removeRunDir(dir: string): Promise<void> {
  try {
    await rmdir(join(dir, 'work'));
    await unlink(join(dir, 'run.json'));
    await rmdir(dir);
  } catch {
    await rm(dir, { recursive: true, force: true }); // not empty, or partly gone already
  }
}

export function createLocalBackend(opts: LocalBackendOptions): LocalBackend {
  return new LocalBackendImpl(opts.stateDir, opts.instanceId);
}
