// The docker backend: one container per run on a Docker engine (or Podman's compatible socket),
// told apart by labels; its state comes from one events stream, never a poll per container.
import { formatError } from '../../core/format-error.js';
import type { IncomingMessage } from 'node:http';
import type { DockerEngine } from '../../docker/engine.js';
import { EngineError } from '../../docker/errors.js';
import { LABELS, type Backend, type Labels, type OwnedRun, type RunEvent, type RunLogChunk, type RunState, type StartRequest } from '../types.js';
import { OWN_LABELS, containerName, validRunId, type CreateConfig } from './create-options.js';
import { EventStream, type ContainerEvent } from './events.js';
import type { RegistryCredentials } from './image.js';
import { containerLogs } from './logs.js';
import { inspectContainer, readEnd } from './run-end.js';
import { startRun } from './start.js';
import { phaseOf, stateOf } from './state.js';
import { RunListeners } from '../listeners.js';

export interface DockerBackendOptions {
  /** The engine client; the caller owns it (it may be shared with the docker builder) and closes it. */
  engine: DockerEngine;
  /** The `wharf.dev/instance` label value: what this backend owns and watches. */
  instanceId: string;
  pidsLimit?: number;
  /** Size cap of the tmpfs on /tmp; default 256 MiB. */
  tmpfsBytes?: number;
  credentials?: RegistryCredentials;
  /**
   * Log driver of the containers. Default: "local" on Docker (json-file turns bytes that are not
   * UTF-8 into U+FFFD; local keeps them), the engine's own default on Podman. null: the engine's.
   */
  logDriver?: string | null;
  /** Where the backend tells of trouble it recovers from (the events stream breaking). */
  report?: (message: string) => void;
}

export interface DockerBackend extends Backend {
  readonly name: 'docker';
  readonly canAdopt: true;
}

/** What this process knows of a run beyond the container itself. */
interface RunRecord {
  state?: RunState;
  starting?: Promise<void>;
  finishing?: Promise<RunState | undefined>;
  stopRequested: boolean;
  removed: boolean;
  /** Delay before reading the end again after a failed attempt. */
  retryMs?: number;
  /** Woken when the container starts or the run ends (a followed log waits for that). */
  wake: (() => void)[];
}

class DockerBackendImpl implements DockerBackend {
  readonly name = 'docker';
  readonly canAdopt = true;
  private readonly engine: DockerEngine;
  private readonly runs = new Map<string, RunRecord>();
  private readonly listeners = new RunListeners();
  private readonly logStreams = new Set<IncomingMessage>();
  private readonly events: EventStream;
  private readonly report: (message: string) => void;
  private config: Promise<CreateConfig> | undefined;
  private closed = false;

  constructor(private readonly o: DockerBackendOptions) {
    this.engine = o.engine;
    this.report = o.report ?? ((m) => process.stderr.write(`[wharf docker backend] ${m}\n`));
    this.events = new EventStream({
      engine: o.engine,
      labels: [`${LABELS.instance}=${o.instanceId}`],
      onEvent: (e) => this.onEvent(e),
      onReconnect: () => void this.resync().catch((e: unknown) => this.report(`resync after reconnect: ${formatError(e)}`)),
      report: this.report,
    });
  }

  subscribe(listener: (e: RunEvent) => void): () => void {
    return this.listeners.add(listener);
  }

  private record(runId: string): RunRecord {
    let r = this.runs.get(runId);
    if (!r) this.runs.set(runId, (r = { stopRequested: false, removed: false, wake: [] }));
    return r;
  }

  private emit(runId: string, state: RunState): void {
    const rec = this.record(runId);
    if (rec.state?.phase === 'ended' || (state.phase === 'running' && rec.state?.phase === 'running')) return;
    rec.state = state;
    for (const w of rec.wake.splice(0)) w();
    const e: RunEvent = { runId, state };
    this.listeners.emit(e);
  }

  private failStart(runId: string, reason: string): void {
    this.emit(runId, { phase: 'ended', exit: { kind: 'start_failed', reason }, endedAt: Date.now() });
  }

  private onEvent(ev: ContainerEvent): void {
    const runId = ev.Actor?.Attributes?.[OWN_LABELS.runId];
    if (!runId || this.closed) return;
    const action = ev.Action ?? ev.status;
    const at = ev.timeNano !== undefined ? Math.floor(ev.timeNano / 1e6) : Date.now();
    if (action === 'start') this.emit(runId, { phase: 'running', startedAt: at });
    else if (action === 'die') void this.finish(runId);
    else if (action === 'destroy') {
      const rec = this.runs.get(runId);
      for (const w of rec?.wake.splice(0) ?? []) w();
      if (rec && !rec.finishing && rec.state?.phase !== 'ended' && !rec.removed) {
        this.emit(runId, { phase: 'ended', exit: { kind: 'error', reason: 'the container was removed behind Wharf\'s back' }, endedAt: at });
      }
    }
  }

  /**
   * Reads a stopped container's end once (outputs included) and reports it. When the engine
   * cannot be read, the promise rejects for whoever awaits it and a retry is scheduled (backing
   * off), or the run's end would never be reported.
   */
  private finish(runId: string): Promise<RunState | undefined> {
    const rec = this.record(runId);
    if (rec.state?.phase === 'ended') return Promise.resolve(rec.state);
    if (rec.finishing) return rec.finishing;
    const p = readEnd(this.engine, containerName(runId), !rec.removed).then((state) => {
      if (!state) {
        // Gone: report it to whoever waits, keep nothing.
        this.emit(runId, { phase: 'ended', exit: { kind: 'error', reason: 'the container was removed before its end was read' }, endedAt: Date.now() });
        this.runs.delete(runId);
      } else if (state.phase === 'ended') this.emit(runId, state);
      return state;
    });
    rec.finishing = p;
    p.then(() => { rec.finishing = undefined; rec.retryMs = undefined; }, (e: unknown) => {
      rec.finishing = undefined;
      rec.retryMs = Math.min((rec.retryMs ?? 500) * 2, 30_000);
      this.report(`reading the end of ${runId}: ${formatError(e)}; again in ${rec.retryMs} ms`);
      setTimeout(() => { if (!this.closed && this.runs.get(runId) === rec) this.finish(runId).catch(() => undefined); }, rec.retryMs).unref();
    });
    return p;
  }

  /** After the events stream was down: runs that ended meanwhile may have no event left to replay. */
  private async resync(): Promise<void> {
    for (const [runId, rec] of this.runs) {
      if (rec.state?.phase !== 'running') continue;
      const c = await inspectContainer(this.engine, containerName(runId));
      if (!c || phaseOf(c).phase !== 'running') await this.finish(runId).catch(() => undefined); // retried on its own
    }
  }

  async start(req: StartRequest): Promise<void> {
    const { runId } = req;
    if (this.closed) throw new Error('the docker backend is closed');
    if (!validRunId(runId)) throw new Error(`invalid run id ${JSON.stringify(runId)}: expected letters, digits, "_", "." or "-"`);
    const owner = req.labels[LABELS.instance];
    if (owner !== undefined && owner !== this.o.instanceId) {
      throw new Error(`run ${runId} is labelled for instance ${owner}, but this docker backend watches instance ${this.o.instanceId}`);
    }
    const rec = this.record(runId);
    if (rec.starting) throw new Error(`run ${runId} is already starting`);
    Object.assign(rec, { state: undefined, stopRequested: false, removed: false });
    rec.starting = (async () => {
      await this.events.ready(); // nothing the container does may happen before we listen
      await startRun({
        engine: this.engine,
        instanceId: this.o.instanceId,
        credentials: this.o.credentials,
        config: await this.createConfig(),
        cancelled: () => (rec.removed ? 'removed' : rec.stopRequested ? 'stopped' : undefined),
        failStart: (reason) => this.failStart(runId, reason),
        running: (startedAt) => this.emit(runId, { phase: 'running', startedAt }),
        finish: () => void this.finish(runId),
      }, { ...req, labels: { ...req.labels, [LABELS.instance]: this.o.instanceId } });
    })();
    try {
      await rec.starting;
    } finally {
      rec.starting = undefined;
      for (const w of rec.wake.splice(0)) w();
    }
  }

  private createConfig(): Promise<CreateConfig> {
    this.config ??= (async () => {
      let logDriver = this.o.logDriver === null ? undefined : this.o.logDriver;
      if (this.o.logDriver === undefined) logDriver = (await isPodman(this.engine)) ? undefined : 'local';
      return { pidsLimit: this.o.pidsLimit ?? 1024, tmpfsBytes: this.o.tmpfsBytes ?? 256 * 1024 * 1024, logDriver };
    })();
    this.config.catch(() => { this.config = undefined; }); // an unreachable engine: ask again next time
    return this.config;
  }

  async inspect(runId: string): Promise<RunState | undefined> {
    const rec = this.runs.get(runId);
    if (rec?.state?.phase === 'ended') return rec.state;
    if (rec?.finishing) return rec.finishing;
    const c = await inspectContainer(this.engine, containerName(runId));
    if (!c) return rec?.starting ? { phase: 'starting' } : undefined;
    const p = phaseOf(c);
    if (p.phase === 'stopped') return this.finish(runId);
    if (p.phase === 'start_failed') this.failStart(runId, p.reason);
    else if (p.phase === 'created' && !rec?.starting) {
      this.failStart(runId, 'the container was created but never started (the worker starting it went away)');
    } else return stateOf(c);
    return this.runs.get(runId)?.state;
  }

  async *logs(runId: string, opts: { follow: boolean; after?: string }): AsyncGenerator<RunLogChunk> {
    const name = containerName(runId);
    let c = await inspectContainer(this.engine, name);
    // A followed log of a run still being started here waits for its start: the engine would
    // answer a container that is only "created" with nothing, at once.
    while (opts.follow && c && phaseOf(c).phase === 'created' && this.runs.get(runId)?.starting) {
      const rec = this.record(runId);
      await new Promise<void>((r) => rec.wake.push(r));
      c = await inspectContainer(this.engine, name);
    }
    if (!c || this.closed) return;
    const id = c.Id;
    const read = (follow: boolean, after: string | undefined): AsyncGenerator<RunLogChunk> => containerLogs(this.engine, id, {
      follow,
      after,
      restoreSplitNewlines: c?.HostConfig?.LogConfig?.Type === 'local',
      track: (res) => {
        this.logStreams.add(res);
        return () => this.logStreams.delete(res);
      },
    });
    let last = opts.after;
    for await (const chunk of read(opts.follow, last)) {
      last = chunk.cursor ?? last;
      yield chunk;
    }
    // The engine can end a followed stream as the container stops, just before the log driver
    // has written the last partial line (seen under load); one more read from the cursor gets it.
    if (opts.follow && !this.closed) yield* read(false, last);
  }

  async stop(runId: string, graceMs: number): Promise<void> {
    const rec = this.runs.get(runId);
    if (rec) rec.stopRequested = true;
    await rec?.starting?.catch(() => undefined); // it will not start now; and what did start is stopped below
    const t = Math.max(0, Math.ceil(graceMs / 1000));
    try {
      // The engine sends the stop signal, waits t seconds, then kills; 304: not running.
      await this.engine.request('POST', `/containers/${containerName(runId)}/stop`, { query: { t }, timeoutMs: t * 1000 + 60_000 });
    } catch (e) {
      if (!(e instanceof EngineError && e.status === 404)) throw e;
    }
  }

  async remove(runId: string): Promise<void> {
    const known = this.runs.get(runId);
    const rec = known ?? this.record(runId); // a record, so an end read meanwhile does not copy outputs
    rec.removed = true;
    await rec.starting?.catch(() => undefined);
    try {
      await this.engine.request('DELETE', `/containers/${containerName(runId)}`, { query: { force: true, v: true } });
    } catch (e) {
      // 404: already gone; 409: a removal is already under way.
      if (!(e instanceof EngineError && (e.status === 404 || e.status === 409))) throw e;
    }
    if (known && rec.state?.phase !== 'ended' && !rec.finishing) {
      this.emit(runId, { phase: 'ended', exit: { kind: 'error', reason: 'removed' }, endedAt: Date.now() });
    }
    await rec.finishing?.catch(() => undefined);
    this.runs.delete(runId);
  }

  async listOwned(selector: Labels): Promise<OwnedRun[]> {
    const label = [`${LABELS.instance}=${this.o.instanceId}`, ...Object.entries(selector).map(([k, v]) => `${k}=${v}`)];
    const list = await this.engine.request<ContainerSummary[]>('GET', '/containers/json', { query: { all: true, filters: { label } } });
    const out: OwnedRun[] = [];
    for (const s of list) {
      const labels = { ...(s.Labels ?? {}) };
      const runId = labels[OWN_LABELS.runId];
      if (!runId) continue;
      for (const k of Object.values(OWN_LABELS)) delete labels[k];
      const known = this.runs.get(runId)?.state;
      let state: RunState | undefined = known?.phase === 'ended' ? known : undefined;
      if (!state && s.State === 'running') state = known ?? { phase: 'running', startedAt: (s.Created ?? 0) * 1000 };
      if (!state) {
        const c = await inspectContainer(this.engine, containerName(runId));
        if (!c) continue;
        state = stateOf(c); // the exit as the engine has it; inspect() is what also copies outputs
      }
      out.push({ runId, labels, state });
    }
    return out;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    for (const res of this.logStreams) res.destroy(new Error('the docker backend was closed'));
    for (const rec of this.runs.values()) for (const w of rec.wake.splice(0)) w();
    await this.events.close();
  }
}

interface ContainerSummary {
  Id: string;
  Names?: string[];
  Labels?: Record<string, string> | null;
  State?: string;
  Created?: number;
}

async function isPodman(engine: DockerEngine): Promise<boolean> {
  const v = await engine.request<{ Components?: { Name?: string }[] } | undefined>('GET', '/version');
  return (v?.Components ?? []).some((c) => /podman/i.test(c.Name ?? ''));
}

export function createDockerBackend(opts: DockerBackendOptions): DockerBackend {
  return new DockerBackendImpl(opts);
}
