// Follows one pod by a watch on its name (`fieldSelector metadata.name=…`), never a poll: resolves
// when the kaniko container is running (or already done) and when it has terminated. A watch the
// server ends is started again (its first event is the pod's current state).
import { Watch, type KubeConfig, type V1ContainerStateTerminated, type V1Pod } from '@kubernetes/client-node';
import { apiError } from '../../backends/kubernetes/api.js';
import { BuildError } from '../errors.js';
import { KANIKO_CONTAINER } from './pod.js';

const MAX_RESTARTS = 5;

export interface OnePodWatch {
  /** The container has started (or already ended). */
  started: Promise<void>;
  /** The container's terminated state. */
  terminated: Promise<V1ContainerStateTerminated>;
  stop(): void;
}

/** The scheduler's or the kubelet's word on why the pod has not started, if any. */
function pendingReason(pod: V1Pod): string | undefined {
  const waiting = pod.status?.containerStatuses?.find((c) => c.name === KANIKO_CONTAINER)?.state?.waiting;
  if (waiting?.message) return `${waiting.reason ?? 'waiting'}: ${waiting.message}`;
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
  if (scheduled) return scheduled.message ?? scheduled.reason;
  return waiting?.reason;
}

/** `pendingTimeoutMs`: a pod not started by then (unschedulable, say) fails the build with why. */
export function watchPod(kc: KubeConfig, namespace: string, name: string, pendingTimeoutMs: number): OnePodWatch {
  let markStarted!: () => void;
  let markTerminated!: (t: V1ContainerStateTerminated) => void;
  let fail!: (e: unknown) => void;
  const started = new Promise<void>((r) => { markStarted = r; });
  const terminated = new Promise<V1ContainerStateTerminated>((resolve, reject) => {
    markTerminated = resolve;
    fail = reject;
  });
  // Whoever waits for `started` waits for `terminated` too: a failure reaches it there.
  started.catch(() => undefined);
  terminated.catch(() => undefined);
  let done = false;
  let controller: AbortController | undefined;
  let restarts = 0;
  let lastPending: string | undefined;
  const pendingTimer = setTimeout(() => {
    const secs = Math.round(pendingTimeoutMs / 1000);
    finish(() => fail(new BuildError(`build pod ${name} in namespace ${namespace} did not start within ${secs} s${lastPending ? `: ${lastPending}` : ''}`)));
  }, pendingTimeoutMs);
  pendingTimer.unref();
  void started.then(() => clearTimeout(pendingTimer));
  const finish = (f: () => void): void => {
    if (done) return;
    done = true;
    clearTimeout(pendingTimer);
    controller?.abort();
    f();
  };

  const onPod = (phase: string, pod: V1Pod): void => {
    if (phase === 'DELETED') {
      finish(() => fail(new BuildError(`build pod ${name} in namespace ${namespace} was deleted before its build ended`)));
      return;
    }
    const status = pod.status?.containerStatuses?.find((c) => c.name === KANIKO_CONTAINER);
    const waiting = status?.state?.waiting;
    if (waiting && /ErrImagePull|ImagePullBackOff|InvalidImageName|CreateContainerConfigError|CreateContainerError/.test(waiting.reason ?? '')) {
      finish(() => fail(new BuildError(`build pod ${name}: container ${KANIKO_CONTAINER} cannot start: ${waiting.reason ?? ''}${waiting.message ? ` (${waiting.message})` : ''}`)));
      return;
    }
    lastPending = pendingReason(pod) ?? lastPending;
    if (status?.state?.running) markStarted();
    const t = status?.state?.terminated;
    if (t) {
      markStarted();
      finish(() => markTerminated(t));
      return;
    }
    if (pod.status?.phase === 'Failed' && !status) {
      finish(() => fail(new BuildError(`build pod ${name} failed: ${pod.status?.reason ?? ''} ${pod.status?.message ?? ''}`.trim())));
    }
  };

  const start = (): void => {
    if (done) return;
    void new Watch(kc).watch(
      `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`,
      { fieldSelector: `metadata.name=${name}` },
      (phase, obj) => { onPod(phase, obj as V1Pod); },
      (err: unknown) => {
        if (done) return;
        if (err !== null && err !== undefined && (err as { name?: string }).name !== 'AbortError') restarts++;
        if (restarts > MAX_RESTARTS) {
          finish(() => fail(new BuildError(apiError(err, `watching build pod ${name} in namespace ${namespace}`).message)));
          return;
        }
        start();
      },
    ).then((c) => {
      controller = c;
      if (done) c.abort();
    }, (err: unknown) => {
      finish(() => fail(new BuildError(apiError(err, `watching build pod ${name} in namespace ${namespace}`).message)));
    });
  };
  start();
  return { started, terminated, stop: () => finish(() => fail(new Error('watch stopped'))) };
}
