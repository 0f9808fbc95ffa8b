// Scaffolding for the kubernetes backend tests: a Kubernetes API simulator whose kubelet runs the
// pods as containers on the test run's dockerd, a KubeConfig built only from the simulator's own
// options (never a default kubeconfig or in-cluster config), backends under one instance id, and
// a cleanup that stops everything even when a test failed half-way.
import { randomBytes } from 'node:crypto';
import { KubeConfig } from '@kubernetes/client-node';
import { createKubernetesBackend, type KubernetesBackend, type KubernetesBackendOptions } from '../../src/backends/kubernetes/index.js';
import { LABELS, type Backend, type RunExit, type RunLogChunk, type StartRequest } from '../../src/backends/types.js';
import type { TaskPlan } from '../../src/spec/plan.js';
import { Recorder } from '../helpers/recorder.js';
import { testDocker, type TestDocker } from '../infra/docker.js';
import { startSimulator, type Simulator, type SimulatorOptions } from '../k8s-sim/index.js';
import { createDockerKubelet } from '../k8s-sim/kubelet/index.js';

export { Recorder };

export const NAMESPACE = 'default';

export interface Side {
  backend: KubernetesBackend;
  rec: Recorder;
  reports: string[];
}

export interface KCtx extends Side {
  sim: Simulator;
  docker: TestDocker;
  instanceId: string;
  kubeConfig(): KubeConfig;
  /** Another backend on the same instance id (a restarted worker). */
  other(opts?: Partial<KubernetesBackendOptions>): Side;
  req(runId: string, command: string[], plan?: Partial<TaskPlan>, env?: Record<string, string>): StartRequest;
  cleanup(): Promise<void>;
}

export async function setup(file: string, opts: Partial<KubernetesBackendOptions> = {}, simOpts: SimulatorOptions = {}): Promise<KCtx> {
  const docker = await testDocker();
  const sim = await startSimulator({
    ...simOpts,
    kubelet: (host) => createDockerKubelet({ host, dockerHost: docker.host, timing: { syncMs: 100, pullBackoffMs: 300, pullBackoffMaxMs: 1000 } }),
  });
  const instanceId = `test-${file}-${randomBytes(4).toString('hex')}`;
  const kubeConfig = (): KubeConfig => {
    const kc = new KubeConfig();
    kc.loadFromOptions(sim.kubeConfigOptions());
    return kc;
  };
  const sides: Side[] = [];
  const make = (extra: Partial<KubernetesBackendOptions> = {}): Side => {
    const reports: string[] = [];
    const backend = createKubernetesBackend({
      kubeConfig: kubeConfig(), namespace: NAMESPACE, instanceId, report: (m) => reports.push(m), requestTimeoutMs: 10_000, ...opts, ...extra,
    });
    const side = { backend, rec: new Recorder(backend), reports };
    sides.push(side);
    return side;
  };
  const main = make();
  return {
    sim, docker, instanceId, kubeConfig, ...main, other: make,
    req: (runId, command, plan = {}, env = {}) => ({
      runId,
      labels: { [LABELS.instance]: instanceId, [LABELS.job]: 'j1', [LABELS.task]: 't', [LABELS.attempt]: '1', [LABELS.attemptId]: runId },
      env,
      plan: { name: 't', command, image: docker.busybox, env: {}, needs: [], retry: { limit: 0, initialMs: 1000, factor: 2, maxMs: 1000 }, ...plan },
    }),
    async cleanup() {
      try {
        for (const s of sides) await s.backend.close();
      } finally {
        await sim.stop(); // its kubelet removes every container it started
      }
    },
  };
}

/** All output, read with follow until the run's output ends. */
export async function output(backend: Backend, runId: string, after?: string): Promise<{ text: string; chunks: RunLogChunk[] }> {
  const chunks: RunLogChunk[] = [];
  for await (const c of backend.logs(runId, { follow: true, ...(after ? { after } : {}) })) chunks.push(c);
  return { text: Buffer.concat(chunks.map((c) => c.data)).toString('utf8'), chunks };
}

/** Starts a run, reads its output to the end and waits for its exit; then removes it. */
export async function runToEnd(ctx: KCtx, runId: string, command: string[], plan: Partial<TaskPlan> = {}, env: Record<string, string> = {}): Promise<{ exit: RunExit; text: string; chunks: RunLogChunk[] }> {
  const ended = ctx.rec.ended(runId);
  await ctx.backend.start(ctx.req(runId, command, plan, env));
  const [out, exit] = await Promise.all([output(ctx.backend, runId), ended]);
  await ctx.backend.remove(runId);
  return { exit, ...out };
}

/** Resolves when `test` holds, checking at each of the backend's run events (and every 50 ms). */
export async function until(what: string, test: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
