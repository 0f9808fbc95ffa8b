// What a pod's status says about its run, read from the task container's status (waiting reason,
// exit code) and the pod's own reason — not from the phase alone. Pure.
//
// Objects come from the informer's list (client-node deserializes times into Date) and from its
// watch (raw JSON, times as strings): both are read.
import type { RunExit } from '../types.js';
import { TASK_CONTAINER } from './names.js';

type Time = Date | string;

interface ContainerStatusLike {
  name: string;
  state?: {
    waiting?: { reason?: string; message?: string };
    running?: { startedAt?: Time };
    terminated?: { exitCode: number; reason?: string; message?: string; signal?: number; startedAt?: Time; finishedAt?: Time };
  };
}

/** The parts of a V1Pod read here. */
export interface PodLike {
  metadata?: { name?: string; creationTimestamp?: Time; deletionTimestamp?: Time; annotations?: Record<string, string> };
  spec?: { containers?: { name: string; resources?: { limits?: Record<string, string> } }[] };
  status?: {
    phase?: string;
    reason?: string;
    message?: string;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
    containerStatuses?: ContainerStatusLike[];
  };
}

export type PodObservation =
  /** Not running yet; `message` is why, as the platform says it. */
  | { kind: 'pending'; message?: string; unschedulable?: true; pullError?: string }
  /** It will not start: the reason, verbatim (`imagePull`: the kubelet gave up pulling the image). */
  | { kind: 'start_failed'; reason: string; imagePull?: true }
  | { kind: 'running'; startedAt: number }
  | { kind: 'ended'; exit: RunExit; endedAt: number; startedAt?: number };

export function timeMs(t: Time | undefined): number | undefined {
  if (t === undefined) return undefined;
  const ms = t instanceof Date ? t.getTime() : Date.parse(t);
  return Number.isNaN(ms) ? undefined : ms;
}

const QUANTITY_SUFFIX: Record<string, number> = {
  '': 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/** A resource quantity ("512Mi", "1G", "1e9", "134217728") in units; undefined when it does not parse. */
export function parseQuantity(q: string): number | undefined {
  const m = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E))?$/.exec(q.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  if (m[2] !== undefined) return n * 10 ** Number(m[2].slice(1));
  return n * (QUANTITY_SUFFIX[m[3] ?? ''] ?? NaN);
}

function memoryLimit(pod: PodLike): number | undefined {
  const q = pod.spec?.containers?.find((c) => c.name === TASK_CONTAINER)?.resources?.limits?.['memory'];
  const bytes = q === undefined ? undefined : parseQuantity(q);
  return bytes !== undefined && Number.isFinite(bytes) && bytes > 0 ? Math.round(bytes) : undefined;
}

const NORMAL_WAITS = new Set(['ContainerCreating', 'PodInitializing']);

/** `reason: message`, either alone, or undefined. */
function said(reason: string | undefined, message: string | undefined): string | undefined {
  if (reason && message) return `${reason}: ${message}`;
  return reason || message || undefined;
}

/** Waiting reasons the kubelet will not get past by trying again. */
const HOPELESS = new Set(['InvalidImageName', 'ErrImageNeverPull']);

/** The runtime's pull error inside an ImagePullBackOff message (Kubernetes ≥ 1.32 appends it). */
function pullErrorIn(backoffMessage: string): string | undefined {
  const i = backoffMessage.indexOf(': ErrImagePull: ');
  return i >= 0 ? backoffMessage.slice(i + ': ErrImagePull: '.length) : undefined;
}

function podEnd(pod: PodLike, now: number, exit: RunExit, started?: number, finished?: number): PodObservation {
  return { kind: 'ended', exit, endedAt: finished ?? now, ...(started !== undefined ? { startedAt: started } : {}) };
}

export function observePod(pod: PodLike, now = Date.now()): PodObservation {
  const st = pod.status ?? {};
  const cs = st.containerStatuses?.find((c) => c.name === TASK_CONTAINER);
  const term = cs?.state?.terminated;
  const started = timeMs(term?.startedAt ?? cs?.state?.running?.startedAt);
  const finished = timeMs(term?.finishedAt);
  const podMessage = (st.message ?? '').trimEnd();

  // The pod's own reason first: the container's 137 is only how eviction or the deadline killed it.
  if (st.reason === 'Evicted') return podEnd(pod, now, { kind: 'error', reason: `evicted: ${podMessage || 'no message'}` }, started, finished);
  if (st.reason === 'DeadlineExceeded') return podEnd(pod, now, { kind: 'error', reason: `deadline exceeded: ${podMessage || 'no message'}` }, started, finished);

  if (term) {
    if (term.reason === 'OOMKilled') {
      const limit = memoryLimit(pod);
      return podEnd(pod, now, limit !== undefined ? { kind: 'oom_killed', memoryLimitBytes: limit } : { kind: 'oom_killed' }, started, finished);
    }
    // containerd's StartError (exit 128): the command could not be run at all.
    if (term.reason === 'StartError' || term.reason === 'ContainerCannotRun') {
      return { kind: 'start_failed', reason: said(term.reason, term.message?.trimEnd()) ?? 'the container could not start' };
    }
    if (term.reason === 'ContainerStatusUnknown') {
      return podEnd(pod, now, { kind: 'error', reason: said(term.reason, term.message) ?? 'ContainerStatusUnknown' }, started, finished);
    }
    // Never report a failure as exit 0: a zero code the runtime could not vouch for is an error.
    if (term.exitCode === 0 && (st.phase === 'Failed' || (term.reason !== undefined && term.reason !== 'Completed'))) {
      return podEnd(pod, now, { kind: 'error', reason: `the container ended ${said(term.reason, term.message) ?? 'with no exit code'} (pod ${st.phase ?? 'phase unknown'})` }, started, finished);
    }
    return podEnd(pod, now, { kind: 'exited', code: term.exitCode }, started, finished);
  }
  if (cs?.state?.running) return { kind: 'running', startedAt: started ?? now };

  const waiting = cs?.state?.waiting;
  if (waiting) {
    const reason = waiting.reason ?? '';
    if (reason === 'ImagePullBackOff') {
      const m = waiting.message ?? '';
      return { kind: 'start_failed', reason: pullErrorIn(m) ?? (m || 'ImagePullBackOff'), imagePull: true };
    }
    if (HOPELESS.has(reason) || (reason === 'CreateContainerConfigError' && /runAsNonRoot/.test(waiting.message ?? ''))) {
      return { kind: 'start_failed', reason: said(reason, waiting.message) ?? reason };
    }
    const p: PodObservation = { kind: 'pending' };
    // Creating and initializing are the normal way to a start: nothing to tell the user.
    const message = NORMAL_WAITS.has(reason) && !waiting.message ? undefined : said(reason || undefined, waiting.message);
    if (message !== undefined) p.message = message;
    if (reason === 'ErrImagePull' && waiting.message) p.pullError = waiting.message;
    if (st.phase !== 'Failed' && st.phase !== 'Succeeded') return p;
  }

  // Ended without the task container ever running: rejected at admission (OutOfcpu, NodeAffinity…).
  if (st.phase === 'Failed' || st.phase === 'Succeeded') {
    return { kind: 'start_failed', reason: said(st.reason, podMessage) ?? `the pod ${st.phase === 'Failed' ? 'failed' : 'ended'} before its container started` };
  }
  const scheduled = st.conditions?.find((c) => c.type === 'PodScheduled');
  if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable') {
    return { kind: 'pending', message: scheduled.message ?? 'Unschedulable', unschedulable: true };
  }
  const p: PodObservation = { kind: 'pending' };
  const message = said(scheduled?.status === 'False' ? scheduled.reason : undefined, scheduled?.status === 'False' ? scheduled.message : undefined);
  if (message !== undefined) p.message = message;
  return p;
}
