// The simulator's kubelet (and scheduler): pods handed over by the API server run as real Docker
// containers, labelled with this kubelet's instance so that close() finds every one of them.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { DockerEngine } from '../../../src/docker/engine.js';
import type { Kubelet, KubeletFaults, LogOptions, Pod, PodHost, Status } from '../types.js';
import { attachContainer, type Attached } from './attach.js';
import { INSTANCE_LABEL } from './create-body.js';
import { ContainerEvents } from './events.js';
import type { ImageFault } from './images.js';
import { containerLogs } from './logs.js';
import { evictionMessage } from './eviction.js';
import { PodWorker, type Timing } from './pod-worker.js';
import { logTarget, notFound, pickContainer, statusError } from './requests.js';
import { defaultNodes, Scheduler, type NodeSpec } from './scheduler.js';
import type { ContainerState } from './status.js';

/** A PodHost that can also record the scheduler's binding (spec.nodeName), as pods/binding does. */
export interface BindingPodHost extends PodHost {
  bind?(namespace: string, name: string, node: string): void;
}

export interface DockerKubeletOptions {
  host: BindingPodHost;
  /** DOCKER_HOST form: unix:///… */
  dockerHost: string;
  /** Default: sim-node-1..3, each cpu 2, memory 4Gi, pods 110. */
  nodes?: NodeSpec[];
  /** The value of the k8s-sim.instance label on every container; default a random one. */
  instance?: string;
  timing?: Partial<Timing>;
  /** Where failures that have no caller to go to are told; default stderr. */
  log?: (message: string) => void;
}

export interface DockerKubelet extends Kubelet {
  readonly instance: string;
  /** The instance label selector of every container this kubelet starts (`k8s-sim.instance=…`). */
  readonly labelSelector: string;
}

/** A fault asked of a pod the kubelet cannot apply it to. */
export class KubeletFaultError extends Error {
  override readonly name = 'KubeletFaultError';
}

export function createDockerKubelet(opts: DockerKubeletOptions): DockerKubelet {
  const instance = opts.instance ?? `k8s-sim-${randomBytes(6).toString('hex')}`;
  const label = `${INSTANCE_LABEL}=${instance}`;
  const log = opts.log ?? ((m: string) => { process.stderr.write(`k8s-sim kubelet: ${m}\n`); });
  const timing: Timing = { syncMs: 300, pullBackoffMs: 1000, pullBackoffMaxMs: 10_000, ...opts.timing };
  const engine = new DockerEngine({ host: opts.dockerHost });
  const events = new ContainerEvents(engine, label, log);
  const baseDir = mkdtempSync(join(tmpdir(), 'k8s-sim-kubelet-'));
  const scheduler = new Scheduler(opts.nodes ?? defaultNodes());
  const host = opts.host;
  const workers = new Map<string, PodWorker>();
  const pending: string[] = []; // unschedulable pods, first come first tried
  const terminating = new Set<string>();
  const faults: ImageFault[] = [];
  const open = new Set<() => void>(); // log streams and attach connections, cut on close
  let closed = false;

  const keyOf = (ns: string, name: string): string => `${ns}/${name}`;

  function trySchedule(key: string, w: PodWorker): boolean {
    const pod = w.state.pod;
    const r = scheduler.schedule(key, pod);
    if ('node' in r) {
      host.bind?.(w.ns, w.name, r.node);
      w.start(r.node);
      return true;
    }
    w.state.unschedulable = r.unschedulable;
    w.publish();
    return false;
  }

  /** Capacity was freed: pending pods get another try, in order. */
  function retryPending(): void {
    for (const key of [...pending]) {
      const w = workers.get(key);
      if (!w || w.stopped || trySchedule(key, w)) pending.splice(pending.indexOf(key), 1);
    }
  }

  /** Halts the pod, removes its containers; `thenRemove` for the kubelet's final delete. */
  async function stop(key: string, w: PodWorker, grace: number, thenRemove: boolean): Promise<void> {
    terminating.add(key);
    const i = pending.indexOf(key);
    if (i >= 0) pending.splice(i, 1);
    try {
      if (w.state.node) await w.halt(grace);
      else w.abandon(); // never scheduled: nothing runs
      await w.remove();
    } catch (e) {
      log(`stopping ${key}: ${(e as Error).message}`);
    }
    workers.delete(key);
    terminating.delete(key);
    if (scheduler.release(key)) retryPending();
    // The final grace-0 delete, unless the API server removed the pod itself (grace 0 already).
    const stored = host.getPod(w.ns, w.name);
    if (thenRemove && !closed && stored && stored.metadata?.uid === w.state.pod.metadata?.uid) {
      try {
        host.remove(w.ns, w.name);
      } catch (e) {
        log(`removing ${key}: ${(e as Error).message}`);
      }
    }
  }

  function admit(pod: Pod): void {
    const ns = pod.metadata?.namespace ?? 'default';
    const key = keyOf(ns, pod.metadata?.name ?? '');
    if (closed || workers.has(key)) return;
    const dir = join(baseDir, pod.metadata?.uid || randomBytes(8).toString('hex'));
    const w: PodWorker = new PodWorker(pod, dir, {
      engine, events, host, instance, faults, timing,
      report: log,
      onEnded: () => { if (scheduler.release(key)) retryPending(); },
      onGone: () => { if (!terminating.has(key) && workers.get(key) === w) void stop(key, w, 0, false); },
      isClosed: () => closed,
    });
    workers.set(key, w);
    // After the API server has answered the create, as the real scheduler would.
    setImmediate(() => {
      if (closed || w.stopped || workers.get(key) !== w) return;
      const named = pod.spec?.nodeName;
      if (named) {
        // Bound by the client itself: the named node's kubelet runs it (no such node: nobody does).
        if (scheduler.has(named)) {
          scheduler.assign(key, pod, named);
          w.start(named);
        }
        return;
      }
      if (!trySchedule(key, w)) pending.push(key);
    });
  }

  function terminate(ns: string, name: string, graceSeconds: number): void {
    const key = keyOf(ns, name);
    const w = workers.get(key);
    if (!w) {
      // Nothing of it runs here: the final delete right away (not inside the caller's delete).
      setImmediate(() => { if (!closed && host.getPod(ns, name)) host.remove(ns, name); });
      return;
    }
    if (terminating.has(key)) {
      void w.halt(graceSeconds); // a shorter grace period cuts the one in progress short
      return;
    }
    void stop(key, w, graceSeconds, true);
  }

  /** The pod's worker and the named container's state, or the Status to answer instead. */
  function target(ns: string, name: string, container: string | undefined): { w: PodWorker; c: ContainerState } | Status | undefined {
    const pod = host.getPod(ns, name);
    if (!pod) return notFound(name);
    const picked = pickContainer(pod, container);
    if (typeof picked !== 'string') return picked;
    const w = workers.get(keyOf(ns, name));
    if (!w || !w.state.node || w.state.pod.metadata?.uid !== pod.metadata?.uid) return undefined; // not bound to a node
    const c = [...w.state.init, ...w.state.main].find((x) => x.name === picked);
    return c ? { w, c } : undefined;
  }

  function track(close: () => void): () => void {
    open.add(close);
    return () => open.delete(close);
  }

  async function logs(ns: string, name: string, o: LogOptions): Promise<Readable | Status> {
    const t = target(ns, name, o.container);
    if (t === undefined) return emptyBody();
    if (!('w' in t)) return t;
    const id = logTarget(name, t.c, o.previous, t.w.state.init.length > 0);
    if (typeof id !== 'string') return id;
    try {
      return await containerLogs(engine, id, o, { tty: Boolean(t.w.spec(t.c)?.tty), track: (s) => track(() => s.destroy()) });
    } catch (e) {
      log(`logs of ${ns}/${name}: ${(e as Error).message}`);
      return emptyBody(); // the container was removed meanwhile
    }
  }

  async function attach(ns: string, name: string, container: string | undefined): Promise<{ stdin: Attached['stdin']; stdout: Readable; stderr: Readable } | Status> {
    const t = target(ns, name, container);
    const notRunning = (c: string): Status => statusError(500, 'InternalError', `container not found ("${c}")`);
    if (t === undefined) return notRunning(container ?? '');
    if (!('w' in t)) return t;
    if (!t.c.running || !t.c.id) return notRunning(t.c.name);
    const a = await attachContainer(engine.host, t.c.id, Boolean(t.w.spec(t.c)?.tty));
    const untrack = track(a.close);
    a.stdout.once('end', untrack);
    return { stdin: a.stdin, stdout: a.stdout, stderr: a.stderr };
  }

  function active(ns: string, name: string, what: string): PodWorker {
    const w = workers.get(keyOf(ns, name));
    if (!w || !w.state.node || w.isEnded || w.stopped) throw new KubeletFaultError(`cannot ${what} pod ${ns}/${name}: it is not active on a node of this kubelet`);
    return w;
  }

  const kubeletFaults: KubeletFaults = {
    failImagePull(match: RegExp, message?: string): void {
      faults.push(message === undefined ? { match } : { match, message });
    },
    async evict(ns: string, name: string): Promise<void> {
      const w = active(ns, name, 'evict');
      await w.evict(await evictionMessage(engine, w));
    },
    async oomKill(ns: string, name: string, container?: string): Promise<void> {
      const w = active(ns, name, 'OOM-kill');
      const c = [...w.state.main, ...w.state.init].find((x) => x.running && (container === undefined || x.name === container));
      if (!c) throw new KubeletFaultError(`cannot OOM-kill ${container === undefined ? 'a container' : `container "${container}"`} of pod ${ns}/${name}: none is running`);
      await w.oomKill(c);
    },
  };

  async function close(): Promise<void> {
    if (closed) return;
    closed = true;
    for (const w of workers.values()) w.abandon();
    for (const c of [...open]) c();
    await events.close();
    const filters = { label: [label] };
    const left = await engine.request<{ Id: string }[]>('GET', '/containers/json', { query: { all: true, filters } }).catch(() => []);
    await Promise.all(left.map((c) => engine.request('DELETE', `/containers/${c.Id}`, { query: { force: true, v: true } }).catch(() => undefined)));
    workers.clear();
    rmSync(baseDir, { recursive: true, force: true });
    engine.close();
  }

  return { instance, labelSelector: label, faults: kubeletFaults, admit, terminate, logs, attach, close };
}

/** pods/log of a pod not bound to a node: 200 with nothing in it. */
function emptyBody(): Readable {
  const s = new PassThrough();
  s.end();
  return s;
}
