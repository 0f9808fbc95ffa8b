// The baselines of the kubernetes benchmarks: the same pods driven straight through client-node,
// no Wharf. (a) a phase poll per pod, the way runner-container-hooks' waitForPodPhases polls
// (GET every 1 s doubling to 20 s); (b) many pods in flight, their ends seen by one watch.
import { CoreV1Api, KubeConfig, Watch, type V1Pod } from '@kubernetes/client-node';
import type { Simulator } from '../test/k8s-sim/index.js';

export const NAMESPACE = 'default';
const BASELINE_LABEL = 'wharf-bench.baseline';
/** Longest a pod may take to end before the bench gives up with an error. */
const POD_WAIT_MS = 120_000;

export function client(sim: Simulator): { kc: KubeConfig; api: CoreV1Api } {
  const kc = new KubeConfig();
  kc.loadFromOptions(sim.kubeConfigOptions());
  return { kc, api: kc.makeApiClient(CoreV1Api) };
}

/** A pod hardened as Wharf's (src/backends/kubernetes/pod-spec.ts) builds one by default. */
function benchPod(name: string, image: string, command: string[]): V1Pod {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: NAMESPACE, labels: { [BASELINE_LABEL]: '1' } },
    spec: {
      restartPolicy: 'Never', automountServiceAccountToken: false, enableServiceLinks: false, terminationGracePeriodSeconds: 10,
      securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
      containers: [{
        name: 'task', image, command, stdin: false, tty: false,
        securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, readOnlyRootFilesystem: true },
        volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
      }],
      volumes: [{ name: 'tmp', emptyDir: { sizeLimit: String(256 * 1024 * 1024) } }],
    },
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One pod's life under a phase poll: create, GET until Succeeded/Failed with waitForPodPhases'
 * backoff (immediately, then after 1, 2, 4, 8, 16, 20, 20 … s), read the log once, delete.
 */
async function phasePollOne(api: CoreV1Api, name: string, image: string, command: string[]): Promise<void> {
  await api.createNamespacedPod({ namespace: NAMESPACE, body: benchPod(name, image, command) });
  const deadline = Date.now() + POD_WAIT_MS;
  let backoffS = 0;
  for (;;) {
    const phase = (await api.readNamespacedPod({ name, namespace: NAMESPACE })).status?.phase;
    if (phase === 'Succeeded') break;
    if (phase === 'Failed') throw new Error(`baseline pod ${name} failed`);
    if (Date.now() > deadline) throw new Error(`baseline pod ${name} still ${phase ?? 'without a phase'} after ${POD_WAIT_MS} ms`);
    backoffS = backoffS ? Math.min(backoffS * 2, 20) : 1;
    await sleep(backoffS * 1000);
  }
  await api.readNamespacedPodLog({ name, namespace: NAMESPACE });
  await api.deleteNamespacedPod({ name, namespace: NAMESPACE, gracePeriodSeconds: 0 });
}

/** `n` pods running `command`, each under its own phase poll, all at once. */
export async function phasePoll(sim: Simulator, prefix: string, n: number, image: string, command: string[]): Promise<void> {
  const { api } = client(sim);
  await Promise.all(Array.from({ length: n }, (_, i) => phasePollOne(api, `${prefix}-${i}`, image, command)));
}

export interface DirectResult {
  /** From the first create to the last Succeeded. */
  wallMs: number;
  /** Per pod: the container's startedAt (as the API gives it, whole seconds) − the batch's start. */
  toStartMs: number[];
}

/**
 * `n` no-op pods created straight through client-node, `inFlight` at a time, every end seen
 * by one watch opened before the first create; a pod's slot frees when it has Succeeded, its
 * delete is not waited for (as Wharf records a task's end before deleting its pod).
 */
export async function directPods(sim: Simulator, prefix: string, n: number, inFlight: number, image: string): Promise<DirectResult> {
  const { kc, api } = client(sim);
  const waiting = new Map<string, { resolve: () => void; reject: (e: Error) => void }>();
  const started = new Map<string, number>();
  let watchErr: Error | undefined;
  const list = await api.listNamespacedPod({ namespace: NAMESPACE, labelSelector: BASELINE_LABEL });
  const abort = await new Watch(kc).watch(`/api/v1/namespaces/${NAMESPACE}/pods`,
    { labelSelector: BASELINE_LABEL, resourceVersion: list.metadata?.resourceVersion },
    (_type: string, pod: V1Pod) => {
      const name = pod.metadata?.name ?? '';
      const state = pod.status?.containerStatuses?.[0]?.state;
      const at = state?.running?.startedAt ?? state?.terminated?.startedAt;
      if (at !== undefined && !started.has(name)) started.set(name, new Date(at).getTime());
      const phase = pod.status?.phase;
      if (phase === 'Succeeded') waiting.get(name)?.resolve();
      else if (phase === 'Failed') waiting.get(name)?.reject(new Error(`baseline pod ${name} failed`));
    },
    (err: unknown) => {
      watchErr = err instanceof Error ? err : new Error('the baseline watch ended');
      for (const w of waiting.values()) w.reject(watchErr);
    });
  const deletes: Promise<unknown>[] = [];
  try {
    const t0 = Date.now();
    let next = 0;
    await Promise.all(Array.from({ length: inFlight }, async () => {
      while (next < n) {
        const name = `${prefix}-${next++}`;
        const ended = new Promise<void>((resolve, reject) => { waiting.set(name, { resolve, reject }); });
        const timer = setTimeout(() => waiting.get(name)?.reject(new Error(`baseline pod ${name} did not succeed within ${POD_WAIT_MS} ms`)), POD_WAIT_MS);
        try {
          if (watchErr) throw watchErr;
          await api.createNamespacedPod({ namespace: NAMESPACE, body: benchPod(name, image, ['true']) });
          await ended;
        } finally {
          clearTimeout(timer);
          waiting.delete(name);
        }
        deletes.push(api.deleteNamespacedPod({ name, namespace: NAMESPACE, gracePeriodSeconds: 0 }));
      }
    }));
    const wallMs = Date.now() - t0;
    return { wallMs, toStartMs: [...started.values()].map((at) => at - t0) };
  } finally {
    abort.abort();
    await Promise.allSettled(deletes);
  }
}

/** Resolves once the namespace has no pod left (read in-process: it costs the API server nothing). */
export async function untilNoPods(sim: Simulator, timeoutMs = POD_WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (sim.pods(NAMESPACE).length > 0) {
    if (Date.now() > deadline) throw new Error(`${sim.pods(NAMESPACE).length} pods still in namespace ${NAMESPACE} after ${timeoutMs} ms`);
    await sleep(50);
  }
}
