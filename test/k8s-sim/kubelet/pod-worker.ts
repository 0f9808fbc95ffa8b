// One pod on its node, as the kubelet's pod worker drives it: volumes, init containers one at a
// time (each must exit 0), then every container; image pulls with ErrImagePull/ImagePullBackOff;
// container ends from the events stream; a halt (delete, deadline, eviction) stops what runs,
// with a grace period, and writes the terminal status. restartPolicy is never acted on: nothing
// restarts, whatever the policy (getPhase still reports the phase it implies).
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { DockerEngine } from '../../../src/docker/engine.js';
import { EngineError } from '../../../src/docker/errors.js';
import type { Pod, PodHost } from '../types.js';
import { containerName, createBody } from './create-body.js';
import { ContainerConfigError, containerEnv } from './env.js';
import type { ContainerEvents, ContainerInspect } from './events.js';
import { ensureImage, pullCredentials, type ImageFault } from './images.js';
import { createContainer, exitState, startError, stopContainer } from './runtime.js';
import { finalize, phaseOf, podStatus, rfc3339, type ContainerState, type PodState } from './status.js';
import { MountError, PodVolumes } from './volumes.js';

export interface Timing {
  /** Between a failed attempt and the next status sync (ErrImagePull → ImagePullBackOff). */
  syncMs: number;
  /** First image pull back-off, doubled up to pullBackoffMaxMs. */
  pullBackoffMs: number;
  pullBackoffMaxMs: number;
}

export interface WorkerDeps {
  engine: DockerEngine;
  events: ContainerEvents;
  host: PodHost;
  instance: string;
  faults: ImageFault[];
  timing: Timing;
  report: (msg: string) => void;
  /** The pod reached a terminal phase: its node may be given to others. */
  onEnded: () => void;
  /** The pod is no longer in the store (deleted behind the kubelet's back): stop and clean up. */
  onGone: () => void;
  /** The kubelet is closing: nothing is written any more. */
  isClosed: () => boolean;
}

export const DEADLINE_MESSAGE = 'Pod was active on the node longer than the specified deadline';

export class PodWorker {
  readonly state: PodState;
  readonly ns: string;
  readonly name: string;
  private readonly specs = new Map<ContainerState, IContainer>();
  private readonly abort = new AbortController();
  private readonly oomForced = new Set<string>();
  private halting: Promise<void> | undefined;
  private haltGrace = 0;
  private running: Promise<void> = Promise.resolve();
  private deadline: NodeJS.Timeout | undefined;
  private lastPublished = '';
  private ended = false;
  private readonly volumes: PodVolumes;

  constructor(pod: Pod, podDir: string, private readonly d: WorkerDeps) {
    this.ns = pod.metadata?.namespace ?? 'default';
    this.name = pod.metadata?.name ?? '';
    const state = (c: IContainer): ContainerState => {
      const s: ContainerState = { name: c.name, specImage: c.image ?? '' };
      this.specs.set(s, c);
      return s;
    };
    this.state = {
      pod,
      sandbox: 'none',
      init: (pod.spec?.initContainers ?? []).map(state),
      main: (pod.spec?.containers ?? []).map(state),
      transitions: new Map(),
    };
    this.volumes = new PodVolumes(podDir, pod, (ns, n) => d.host.getSecret(ns, n));
  }

  get stopped(): boolean {
    return this.abort.signal.aborted;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  spec(c: ContainerState): IContainer | undefined {
    return this.specs.get(c);
  }

  /** Writes the status when it changed; a pod gone from the store (or replaced) is stopped. */
  publish(): void {
    if (this.d.isClosed()) return;
    const stored = this.d.host.getPod(this.ns, this.name);
    if (!stored || stored.metadata?.uid !== this.state.pod.metadata?.uid) {
      if (!this.stopped) this.d.onGone();
      return;
    }
    const status = podStatus(this.state);
    const text = JSON.stringify(status);
    if (text === this.lastPublished) return;
    this.lastPublished = text;
    this.d.host.setStatus(this.ns, this.name, status);
  }

  /** Runs the pod on `node`. */
  start(node: string): void {
    this.state.node = node;
    this.state.unschedulable = undefined;
    this.state.startTime = rfc3339();
    this.publish();
    const limit = this.state.pod.spec?.activeDeadlineSeconds;
    if (limit !== undefined) {
      this.deadline = setTimeout(() => void this.deadlineExceeded(), limit * 1000);
    }
    this.running = this.run().catch((e: unknown) => {
      if (!this.stopped) this.d.report(`pod ${this.ns}/${this.name}: ${(e as Error).message}`);
    });
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.volumes.setUp();
        break;
      } catch (e) {
        if (!(e instanceof MountError)) throw e;
        await this.sleep(this.d.timing.syncMs); // FailedMount: ContainerCreating until it works
      }
    }
    if (this.stopped) return;
    this.state.sandbox = 'ready';
    this.publish();
    await Promise.race([this.d.events.ready(), this.untilStopped()]);
    for (const c of this.state.init) {
      await this.drive(c, () => {});
      if (this.stopped) return;
      if (c.terminated?.exitCode !== 0) return this.end();
    }
    const drives: Promise<void>[] = [];
    for (const c of this.state.main) {
      // The kubelet starts containers in order; one whose image fails does not hold up the next.
      await new Promise<void>((first) => drives.push(this.drive(c, first).finally(first)));
      if (this.stopped) break;
    }
    await Promise.all(drives);
    if (!this.stopped) this.end();
  }

  /** One container, from its image to its exit; `first` once its first attempt has an outcome. */
  private async drive(c: ContainerState, first: () => void): Promise<void> {
    const spec = this.specs.get(c);
    if (!spec) return first();
    let backoff = this.d.timing.pullBackoffMs;
    while (!this.stopped) {
      const creds = pullCredentials(this.state.pod, spec.image ?? '', (ns, n) => this.d.host.getSecret(ns, n));
      const img = await ensureImage(this.d.engine, { image: spec.image ?? '', policy: spec.imagePullPolicy }, creds, this.d.faults, this.abort.signal)
        .catch((e: unknown) => { if (this.stopped) return undefined; throw e; });
      if (!img || this.stopped) break;
      if ('waiting' in img) {
        c.waiting = img.waiting;
        this.publish();
        first();
        await this.sleep(this.d.timing.syncMs);
        if (this.stopped || img.waiting.reason !== 'ErrImagePull') continue;
        c.waiting = { reason: 'ImagePullBackOff', message: `Back-off pulling image "${spec.image ?? ''}": ErrImagePull: ${img.waiting.message}` };
        this.publish();
        await this.sleep(backoff);
        backoff = Math.min(backoff * 2, this.d.timing.pullBackoffMaxMs);
        continue;
      }
      let body: Record<string, unknown>;
      try {
        const env = containerEnv(this.state.pod, spec, this.state.node ?? '', (ns, n) => this.d.host.getSecret(ns, n));
        body = createBody({ pod: this.state.pod, container: spec, env, mounts: await this.volumes.mounts(spec), imageUser: img.ok.user, instance: this.d.instance });
      } catch (e) {
        if (!(e instanceof ContainerConfigError || e instanceof MountError)) throw e;
        c.waiting = { reason: 'CreateContainerConfigError', message: e.message };
        this.publish();
        first();
        await this.sleep(this.d.timing.syncMs);
        continue;
      }
      const id = await createContainer(this.d.engine, containerName(this.state.pod, spec.name), body);
      c.id = id;
      c.runtimeImage = { image: img.ok.image, imageID: img.ok.imageID };
      if (this.stopped) break;
      const exited = this.d.events.exited(id);
      try {
        await this.d.engine.request('POST', `/containers/${id}/start`);
      } catch (e) {
        if (!(e instanceof EngineError) || e.status === 0) throw e;
        c.waiting = undefined;
        c.terminated = startError(id, e.message);
        this.publish();
        return first();
      }
      const info = await this.d.engine.request<ContainerInspect>('GET', `/containers/${id}/json`).catch(() => undefined);
      c.waiting = undefined;
      c.running = { startedAt: rfc3339(info ? Date.parse(info.State.StartedAt) : Date.now()) };
      this.publish();
      first();
      // A halt that came while it started did not see it running.
      if (this.stopped) void this.kill(c, this.haltGrace);
      await this.recordExit(c, await exited);
      return;
    }
    first();
  }

  private async recordExit(c: ContainerState, info: ContainerInspect | undefined): Promise<void> {
    c.running = undefined;
    c.terminated = await exitState(c.id, info, {
      engine: this.d.engine,
      spec: this.specs.get(c),
      oomForced: c.id !== undefined && this.oomForced.has(c.id),
      terminationMessage: () => this.volumes.terminationMessage(c.name),
    });
    // The last exit ends the pod: its one status has the sandbox torn down already.
    const phase = phaseOf(this.state);
    if (phase === 'Succeeded' || phase === 'Failed') this.end();
    else this.publish();
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.deadline);
    finalize(this.state);
    this.publish();
    this.d.onEnded();
  }

  /** The kubelet is closing: stop driving the pod, leave its containers to the kubelet's sweep. */
  abandon(): void {
    this.abort.abort();
    clearTimeout(this.deadline);
  }

  /** Stops the pod: nothing more starts, what runs gets SIGTERM then SIGKILL after `grace` s. */
  halt(grace: number): Promise<void> {
    const running = (): ContainerState[] => [...this.state.init, ...this.state.main].filter((c) => c.running);
    if (this.halting) {
      // A shorter grace period than the one in progress cuts it short (e.g. a forced delete).
      if (grace < this.haltGrace) {
        this.haltGrace = grace;
        for (const c of running()) void this.kill(c, grace);
      }
      return this.halting;
    }
    this.haltGrace = grace;
    this.abort.abort();
    clearTimeout(this.deadline);
    const kills = running().map((c) => this.kill(c, grace));
    this.halting = (async () => {
      await Promise.all(kills);
      await this.running;
      this.end();
    })();
    return this.halting;
  }

  private async kill(c: ContainerState, grace: number): Promise<void> {
    if (!c.id) return;
    await stopContainer(this.d.engine, c.id, grace).catch((e: unknown) => {
      this.d.report(`stopping ${c.name} of ${this.ns}/${this.name}: ${(e as Error).message}`);
    });
  }

  private async deadlineExceeded(): Promise<void> {
    if (this.ended || this.stopped) return;
    this.state.terminal = { reason: 'DeadlineExceeded', message: DEADLINE_MESSAGE };
    await this.halt(this.state.pod.spec?.terminationGracePeriodSeconds ?? 30);
  }

  /** The eviction manager's kill: at once, with the reason, message and DisruptionTarget condition. */
  async evict(message: string): Promise<void> {
    this.state.terminal = { reason: 'Evicted', message, disruption: true };
    await this.halt(0);
  }

  /** SIGKILL, reported as the OOM killer's. */
  async oomKill(c: ContainerState): Promise<void> {
    if (!c.id) return;
    this.oomForced.add(c.id);
    await this.kill(c, 0);
  }

  /** Removes the pod's containers and files (after a halt). */
  async remove(): Promise<void> {
    for (const c of [...this.state.init, ...this.state.main]) {
      if (!c.id) continue;
      this.d.events.forget(c.id);
      await this.d.engine.request('DELETE', `/containers/${c.id}`, { query: { force: true, v: true } }).catch(() => undefined);
    }
    await this.volumes.tearDown().catch(() => undefined);
  }

  private untilStopped(): Promise<void> {
    return new Promise((resolve) => {
      if (this.stopped) resolve();
      else this.abort.signal.addEventListener('abort', () => resolve(), { once: true });
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.stopped) return resolve();
      const t = setTimeout(done, ms);
      const signal = this.abort.signal;
      function done(): void {
        clearTimeout(t);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done);
    });
  }
}
