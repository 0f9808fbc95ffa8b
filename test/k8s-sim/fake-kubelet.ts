// A scripted in-memory kubelet for API-level tests (no Docker): binds and "runs" admitted pods,
// reports statuses in the real shapes, serves logs the test writes, echoes attach stdin to stdout,
// and finishes graceful terminations at once or when the test says so.
import { EventEmitter } from 'node:events';
import { PassThrough, Readable } from 'node:stream';
import type { SimPodHost } from './cluster.js';
import { failure } from './status.js';
import type { Kubelet, KubeletFaults, LogOptions, Pod, PodHost, PodStatus, Status } from './types.js';
import { key, rfc3339 } from './wire.js';

export interface FakeKubeletOptions {
  /** On admit, bind the pod to `node` and report it Running (default true). */
  autoRun?: boolean;
  /** On terminate, remove the pod at once, whatever the grace period (default true). */
  autoFinish?: boolean;
  /** Default "sim-node-1". */
  node?: string;
}

interface LogBuffer { text: string; ended: boolean; followers: Set<PassThrough> }

const IMAGE_ID = `docker.io/library/busybox@sha256:${'a'.repeat(64)}`;

function condition(type: string, status: 'True' | 'False', now: string, reason?: string): Record<string, unknown> {
  const c: Record<string, unknown> = { type, status, lastProbeTime: null, lastTransitionTime: now };
  if (reason) c['reason'] = reason;
  return c;
}

function isBindable(h: PodHost): h is SimPodHost {
  return typeof (h as Partial<SimPodHost>).bind === 'function';
}

/** Emits 'log-follower-closed' (key) when a followed log stream is closed by the API server. */
export class FakeKubelet extends EventEmitter implements Kubelet {
  readonly admitted: string[] = [];
  readonly terminated: { key: string; grace: number }[] = [];
  private readonly logs_ = new Map<string, LogBuffer>();
  private readonly pullFailures: { match: RegExp; message: string }[] = [];
  private readonly node: string;

  readonly faults: KubeletFaults = {
    failImagePull: (match, message) => { this.pullFailures.push({ match, message: message ?? `rpc error: code = NotFound desc = failed to pull and unpack image: not found` }); },
    evict: async (ns, name) => { this.finish(ns, name, 137, 'Failed', 'Evicted', 'The node was low on resource: memory. '); },
    oomKill: async (ns, name) => { this.finish(ns, name, 137, 'Failed', undefined, undefined, 'OOMKilled'); },
  };

  constructor(private readonly host: PodHost, private readonly opts: FakeKubeletOptions = {}) {
    super();
    this.node = opts.node ?? 'sim-node-1';
  }

  admit(pod: Pod): void {
    const ns = pod.metadata?.namespace ?? '';
    const name = pod.metadata?.name ?? '';
    this.admitted.push(key(ns, name));
    if (this.opts.autoRun === false) return;
    this.bind(ns, name);
    const image = pod.spec?.containers[0]?.image ?? '';
    const pull = this.pullFailures.find((f) => f.match.test(image));
    if (pull) this.waiting(ns, name, 'ErrImagePull', pull.message);
    else this.run(ns, name);
  }

  terminate(namespace: string, name: string, graceSeconds: number): void {
    this.terminated.push({ key: key(namespace, name), grace: graceSeconds });
    if (this.opts.autoFinish !== false) setImmediate(() => this.host.remove(namespace, name));
  }

  async logs(namespace: string, name: string, opts: LogOptions): Promise<Readable | Status> {
    const pod = this.host.getPod(namespace, name);
    const container = opts.container ?? '';
    const cs = pod?.status?.containerStatuses?.find((c) => c.name === container);
    if (!cs || cs.state?.waiting) {
      const reason = cs?.state?.waiting?.reason ?? 'ContainerCreating';
      return failure(400, 'BadRequest', `container "${container}" in pod "${name}" is waiting to start: ${reason}`);
    }
    const buf = this.buffer(namespace, name, container);
    if (!opts.follow || buf.ended) return Readable.from([Buffer.from(buf.text)]);
    const out = new PassThrough();
    if (buf.text) out.write(buf.text);
    buf.followers.add(out);
    out.on('close', () => {
      buf.followers.delete(out);
      this.emit('log-follower-closed', `${key(namespace, name)}/${container}`);
    });
    return out;
  }

  async attach(): Promise<{ stdin: PassThrough; stdout: PassThrough; stderr: PassThrough }> {
    // a `cat`: stdin comes back on stdout; both outputs end when stdin ends
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    stdin.pipe(stdout);
    stdin.on('end', () => stderr.end());
    return { stdin, stdout, stderr };
  }

  async close(): Promise<void> {
    for (const b of this.logs_.values()) for (const f of b.followers) f.end();
  }

  // ---- driving it from a test ----

  bind(ns: string, name: string): void {
    if (isBindable(this.host)) this.host.bind(ns, name, this.node);
  }

  /** All containers running (phase Running, Ready). */
  run(ns: string, name: string): void {
    const pod = this.host.getPod(ns, name);
    if (!pod) return;
    const now = rfc3339();
    this.host.setStatus(ns, name, this.status(pod, 'Running', {
      conditions: [condition('PodReadyToStartContainers', 'True', now), condition('Initialized', 'True', now), condition('Ready', 'True', now), condition('ContainersReady', 'True', now), condition('PodScheduled', 'True', now)],
      state: { running: { startedAt: now } }, ready: true,
    }));
  }

  /** Every container exited with `exitCode`: Succeeded (0) or Failed; output streams end. */
  exit(ns: string, name: string, exitCode: number): void {
    this.finish(ns, name, exitCode, exitCode === 0 ? 'Succeeded' : 'Failed');
  }

  /** Containers waiting (e.g. ErrImagePull) with the pod Pending. */
  waiting(ns: string, name: string, reason: string, message?: string): void {
    const pod = this.host.getPod(ns, name);
    if (!pod) return;
    const now = rfc3339();
    const waiting: Record<string, string> = { reason };
    if (message) waiting['message'] = message;
    this.host.setStatus(ns, name, this.status(pod, 'Pending', {
      conditions: [condition('PodReadyToStartContainers', 'True', now), condition('Initialized', 'True', now), condition('Ready', 'False', now, 'ContainersNotReady'), condition('ContainersReady', 'False', now, 'ContainersNotReady'), condition('PodScheduled', 'True', now)],
      state: { waiting }, ready: false,
    }));
  }

  /** Finishes a termination the test held back (autoFinish: false): the kubelet's final delete. */
  finishTermination(ns: string, name: string): void {
    this.host.remove(ns, name);
  }

  /** Appends output to a container's log (followers get it at once). */
  writeLog(ns: string, name: string, container: string, text: string): void {
    const b = this.buffer(ns, name, container);
    b.text += text;
    for (const f of b.followers) f.write(text);
  }

  endLog(ns: string, name: string, container: string): void {
    const b = this.buffer(ns, name, container);
    b.ended = true;
    for (const f of b.followers) f.end();
  }

  private buffer(ns: string, name: string, container: string): LogBuffer {
    const k = `${key(ns, name)}/${container}`;
    let b = this.logs_.get(k);
    if (!b) { b = { text: '', ended: false, followers: new Set() }; this.logs_.set(k, b); }
    return b;
  }

  private finish(ns: string, name: string, exitCode: number, phase: 'Succeeded' | 'Failed', reason?: string, message?: string, containerReason?: string): void {
    const pod = this.host.getPod(ns, name);
    if (!pod) return;
    const now = rfc3339();
    const terminated = { exitCode, reason: containerReason ?? (exitCode === 0 ? 'Completed' : 'Error'), startedAt: now, finishedAt: now, containerID: `containerd://${'b'.repeat(64)}` };
    const podReason = phase === 'Succeeded' ? 'PodCompleted' : 'PodFailed';
    const status = this.status(pod, phase, {
      conditions: [condition('PodReadyToStartContainers', 'False', now), condition('Initialized', 'True', now, phase === 'Succeeded' ? 'PodCompleted' : undefined), condition('Ready', 'False', now, podReason), condition('ContainersReady', 'False', now, podReason), condition('PodScheduled', 'True', now)],
      state: { terminated }, ready: false,
    });
    if (reason) Object.assign(status, { reason, message });
    this.host.setStatus(ns, name, status);
    for (const c of pod.spec?.containers ?? []) this.endLog(ns, name, c.name);
  }

  private status(pod: Pod, phase: string, s: { conditions: Record<string, unknown>[]; state: Record<string, unknown>; ready: boolean }): PodStatus {
    const now = rfc3339();
    const running = 'running' in s.state || 'terminated' in s.state;
    const containerStatuses = (pod.spec?.containers ?? []).map((c) => ({
      name: c.name, state: s.state, lastState: {}, ready: s.ready, restartCount: 0,
      image: running ? 'docker.io/library/busybox:latest' : c.image ?? '', imageID: running ? IMAGE_ID : '',
      ...(running ? { containerID: `containerd://${'b'.repeat(64)}` } : {}),
      started: 'running' in s.state,
    }));
    return {
      phase, conditions: s.conditions, hostIP: '127.0.0.1', hostIPs: [{ ip: '127.0.0.1' }], podIP: '127.0.0.1', podIPs: [{ ip: '127.0.0.1' }],
      startTime: pod.status?.startTime ?? now, containerStatuses, qosClass: pod.status?.qosClass ?? 'BestEffort',
    } as unknown as PodStatus;
  }
}

/** For startSimulator({ kubelet }): makes the fake and hands it to `got` so the test can drive it. */
export function fakeKubelet(got: (k: FakeKubelet) => void, opts: FakeKubeletOptions = {}): (host: PodHost) => Kubelet {
  return (host) => {
    const k = new FakeKubelet(host, opts);
    got(k);
    return k;
  };
}
