// The pod status the kubelet writes (kubelet_pods.go generateAPIPodStatus, status/generate.go,
// getPhase), from what this kubelet knows of a pod. Keys are built in Go struct order, because
// the API server serialises them in that order and the simulator must too.
import type { Pod, PodStatus } from '../types.js';
import { qosClass } from './resources.js';

export interface Terminated {
  exitCode: number;
  reason: string;
  message?: string;
  startedAt?: string;
  finishedAt?: string;
  containerID?: string;
}

export interface ContainerState {
  name: string;
  specImage: string;
  /** The runtime's names for the image, once the container exists. */
  runtimeImage?: { image: string; imageID: string };
  /** Docker's container id, once created. */
  id?: string;
  waiting?: { reason: string; message?: string };
  running?: { startedAt: string };
  terminated?: Terminated;
}

export interface PodState {
  pod: Pod;
  /** PodScheduled=False from the scheduler, while no node fits. */
  unschedulable?: string;
  node?: string;
  startTime?: string;
  /** The pod "sandbox": none yet, ready (volumes set up, IP known), gone (the pod is terminal). */
  sandbox: 'none' | 'ready' | 'gone';
  init: ContainerState[];
  main: ContainerState[];
  /** A kubelet-decided end (Evicted, DeadlineExceeded) or the end of a deleted pod. */
  terminal?: { reason?: string; message?: string; disruption?: boolean };
  /** Phase once terminal: it never changes back. */
  endPhase?: 'Succeeded' | 'Failed';
  /** Per condition type, its status and when it last changed (the status manager keeps the time while the status stays). */
  transitions: Map<string, { status: string; time: string }>;
}

export const HOST_IP = '127.0.0.1';
export const CONTAINER_NOT_LOCATED = 'The container could not be located when the pod was terminated';

/** RFC 3339 to the second, as metav1.Time serialises. */
export function rfc3339(d: Date | number = Date.now()): string {
  return new Date(d).toISOString().replace(/\.\d+Z$/, 'Z');
}

type Condition = { type: string; status: string; lastProbeTime: null; lastTransitionTime: string; reason?: string; message?: string };

function condition(s: PodState, now: string, type: string, status: 'True' | 'False', reason?: string, message?: string): Condition {
  const prev = s.transitions.get(type);
  const time = prev && prev.status === status ? prev.time : now;
  s.transitions.set(type, { status, time });
  const c: Condition = { type, status, lastProbeTime: null, lastTransitionTime: time };
  if (reason) c.reason = reason;
  if (message) c.message = message;
  return c;
}

/** getPhase for pods without restartable init containers; `podIsTerminal` when the kubelet is ending the pod. */
export function phaseOf(s: PodState, podIsTerminal = false): 'Pending' | 'Running' | 'Succeeded' | 'Failed' {
  if (s.endPhase) return s.endPhase;
  const policy = s.pod.spec?.restartPolicy ?? 'Always';
  let pendingInit = 0;
  let failedInit = 0;
  for (const c of s.init) {
    if (!c.terminated) pendingInit++;
    else if (c.terminated.exitCode !== 0) failedInit++;
  }
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const c of s.main) {
    if (c.running) running++;
    else if (c.terminated) {
      stopped++;
      if (c.terminated.exitCode === 0) succeeded++;
    } else waiting++;
  }
  if (failedInit > 0 && policy === 'Never') return 'Failed';
  if (pendingInit > 0 || waiting > 0) return 'Pending';
  if (running > 0) return 'Running';
  if (stopped > 0) {
    if (podIsTerminal) return stopped === succeeded ? 'Succeeded' : 'Failed';
    if (policy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    return policy === 'Never' ? 'Failed' : 'Running';
  }
  return 'Pending';
}

function containerStatus(c: ContainerState, isInit: boolean, hasInit: boolean): Record<string, unknown> {
  let state: Record<string, unknown>;
  if (c.terminated) {
    const t = c.terminated;
    const o: Record<string, unknown> = { exitCode: t.exitCode, reason: t.reason };
    if (t.message) o['message'] = t.message;
    if (t.startedAt) o['startedAt'] = t.startedAt;
    if (t.finishedAt) o['finishedAt'] = t.finishedAt;
    if (t.containerID) o['containerID'] = t.containerID;
    state = { terminated: o };
  } else if (c.running) state = { running: { startedAt: c.running.startedAt } };
  else state = { waiting: c.waiting ?? { reason: hasInit ? 'PodInitializing' : 'ContainerCreating' } };
  // The prober manager: a regular container is ready and started while running (no probes are
  // run here); an init container is ready once it completed.
  const ready = isInit ? c.terminated?.exitCode === 0 : c.running !== undefined;
  const out: Record<string, unknown> = {
    name: c.name,
    state,
    lastState: {},
    ready,
    restartCount: 0,
    image: c.runtimeImage?.image ?? c.specImage,
    imageID: c.runtimeImage?.imageID ?? '',
  };
  if (c.id) out['containerID'] = `docker://${c.id}`;
  out['started'] = c.running !== undefined;
  return out;
}

/** The whole status, as the kubelet (or, before binding, the scheduler) writes it. */
export function podStatus(s: PodState, now = rfc3339()): PodStatus {
  const qos = qosClass(s.pod);
  if (!s.node) {
    const msg = s.unschedulable ?? '';
    return asStatus({ phase: 'Pending', conditions: [condition(s, now, 'PodScheduled', 'False', 'Unschedulable', msg)], qosClass: qos });
  }
  const phase = phaseOf(s);
  const terminalPhase = phase === 'Succeeded' || phase === 'Failed';
  const names = (cs: ContainerState[], test: (c: ContainerState) => boolean): string => `[${cs.filter(test).map((c) => c.name).join(' ')}]`;
  const conditions: Condition[] = [];
  if (s.terminal?.disruption) conditions.push(condition(s, now, 'DisruptionTarget', 'True', 'TerminationByKubelet', s.terminal.message));
  conditions.push(condition(s, now, 'PodReadyToStartContainers', s.sandbox === 'ready' ? 'True' : 'False'));

  const incompleteInit = s.init.filter((c) => c.terminated?.exitCode !== 0);
  const anyMainStarted = s.main.some((c) => c.running || c.terminated?.startedAt);
  if (phase === 'Succeeded') conditions.push(condition(s, now, 'Initialized', 'True', 'PodCompleted'));
  else if (incompleteInit.length > 0 && !anyMainStarted) {
    conditions.push(condition(s, now, 'Initialized', 'False', 'ContainersNotInitialized', `containers with incomplete status: ${names(incompleteInit, () => true)}`));
  } else conditions.push(condition(s, now, 'Initialized', 'True'));

  let ready: [status: 'True' | 'False', reason?: string, message?: string];
  if (phase === 'Succeeded') ready = ['False', 'PodCompleted'];
  else if (phase === 'Failed') ready = ['False', 'PodFailed'];
  else if (s.main.some((c) => !c.running)) ready = ['False', 'ContainersNotReady', `containers with unready status: ${names(s.main, (c) => !c.running)}`];
  else ready = ['True'];
  conditions.push(condition(s, now, 'Ready', ...ready));
  conditions.push(condition(s, now, 'ContainersReady', ...ready));
  conditions.push(condition(s, now, 'PodScheduled', 'True'));

  const hasInit = s.init.length > 0;
  const out: Record<string, unknown> = { phase, conditions };
  if (terminalPhase && s.terminal?.message) out['message'] = s.terminal.message;
  if (terminalPhase && s.terminal?.reason) out['reason'] = s.terminal.reason;
  out['hostIP'] = HOST_IP;
  out['hostIPs'] = [{ ip: HOST_IP }];
  if (s.sandbox !== 'none') {
    // Every pod runs in the host's network namespace here (Docker's NetworkMode host).
    out['podIP'] = HOST_IP;
    out['podIPs'] = [{ ip: HOST_IP }];
  }
  if (s.startTime) out['startTime'] = s.startTime;
  if (hasInit) out['initContainerStatuses'] = s.init.map((c) => containerStatus(c, true, hasInit));
  out['containerStatuses'] = s.main.map((c) => containerStatus(c, false, hasInit));
  out['qosClass'] = qos;
  return asStatus(out);
}

/** `lastProbeTime: null` is what the API sends, though the models type it as an optional string. */
function asStatus(o: Record<string, unknown>): PodStatus {
  return o as PodStatus;
}

/**
 * The end of a pod (status_manager TerminatePod, after syncTerminatingPod wrote the phase of its
 * stopped containers): once the pod had initialized, a container that never ended is reported
 * terminated because it cannot be found any more, as are the init containers that had tried to
 * start; a pod not yet Succeeded or Failed becomes Failed.
 */
export function finalize(s: PodState): void {
  if (s.endPhase) return;
  const phase = s.terminal?.reason ? 'Failed' : phaseOf(s, true);
  const waiting = (c: ContainerState): boolean => !c.running && !c.terminated;
  const lastInit = s.init.at(-1);
  const initialized = !lastInit || s.main.some((c) => !waiting(c)) || lastInit.terminated?.exitCode === 0;
  const unknown = (c: ContainerState): void => {
    if (c.terminated) return;
    c.running = undefined;
    c.waiting = undefined;
    c.terminated = { exitCode: 137, reason: 'ContainerStatusUnknown', message: CONTAINER_NOT_LOCATED };
  };
  if (initialized) s.main.forEach(unknown);
  // All init containers up to the last one that left waiting (the first when none did).
  let tried = s.init.length;
  while (tried > 1 && waiting(s.init[tried - 1] as ContainerState)) tried--;
  s.init.slice(0, tried).forEach(unknown);
  s.endPhase = phase === 'Succeeded' ? 'Succeeded' : 'Failed';
  s.sandbox = 'gone';
}
