// Shared scaffolding for the docker backend tests: the test run's dockerd, one backend per test
// file under its own instance id, an event recorder, request builders, and a cleanup that removes
// every container of that instance even when a test failed half-way.
import { randomBytes } from 'node:crypto';
import { createDockerBackend, type DockerBackend, type DockerBackendOptions } from '../../src/backends/docker/index.js';
import { LABELS, type Backend, type RunExit, type RunLogChunk, type StartRequest } from '../../src/backends/types.js';
import { DockerEngine } from '../../src/docker/engine.js';
import type { TaskPlan } from '../../src/spec/plan.js';
import { testDocker, type TestDocker } from '../infra/docker.js';
import { Recorder } from '../helpers/recorder.js';

export { Recorder };

export interface Side {
  engine: DockerEngine;
  backend: DockerBackend;
  rec: Recorder;
}

export interface Ctx extends Side {
  docker: TestDocker;
  instanceId: string;
  /** Another backend on the same instance id with its own engine client (a restarted worker). */
  other(opts?: Partial<DockerBackendOptions>): Side;
  req(runId: string, command: string[], plan?: Partial<TaskPlan>, env?: Record<string, string>): StartRequest;
  /** Containers of this instance, as the engine lists them. */
  containers(): Promise<{ Id: string; Names: string[]; State: string }[]>;
  cleanup(): Promise<void>;
}

export async function setup(file: string, opts: Partial<DockerBackendOptions> = {}): Promise<Ctx> {
  const docker = await testDocker();
  const instanceId = `test-${file}-${randomBytes(4).toString('hex')}`;
  const sides: Side[] = [];
  const make = (extra: Partial<DockerBackendOptions> = {}): Side => {
    const engine = new DockerEngine({ host: docker.host });
    const backend = createDockerBackend({ engine, instanceId, ...opts, ...extra });
    const side = { engine, backend, rec: new Recorder(backend) };
    sides.push(side);
    return side;
  };
  const main = make();
  const filters = { label: [`${LABELS.instance}=${instanceId}`] };
  const containers = (): Promise<{ Id: string; Names: string[]; State: string }[]> =>
    main.engine.request('GET', '/containers/json', { query: { all: true, filters } });
  return {
    docker, instanceId, ...main, other: make, containers,
    req: (runId, command, plan = {}, env = {}) => ({
      runId,
      labels: { [LABELS.instance]: instanceId, [LABELS.attemptId]: runId },
      env,
      plan: { name: 't', command, image: docker.busybox, env: {}, needs: [], retry: { limit: 0, initialMs: 1000, factor: 2, maxMs: 1000 }, ...plan },
    }),
    async cleanup() {
      // Straight through the engine, so a broken backend cannot leave containers behind.
      const engine = new DockerEngine({ host: docker.host });
      try {
        for (const c of await engine.request<{ Id: string }[]>('GET', '/containers/json', { query: { all: true, filters } })) {
          await engine.request('DELETE', `/containers/${c.Id}`, { query: { force: true, v: true } }).catch(() => undefined);
        }
        for (const s of sides) {
          await s.backend.close();
          s.engine.close();
        }
      } finally {
        engine.close();
      }
    },
  };
}

/** All output, per stream, read with follow until the run's output ends. */
export async function output(backend: Backend, runId: string, after?: string): Promise<{ stdout: Buffer; stderr: Buffer; chunks: RunLogChunk[] }> {
  const chunks: RunLogChunk[] = [];
  for await (const c of backend.logs(runId, { follow: true, ...(after ? { after } : {}) })) chunks.push(c);
  const bytes = (s: string): Buffer => Buffer.concat(chunks.filter((c) => c.stream === s).map((c) => c.data));
  return { stdout: bytes('stdout'), stderr: bytes('stderr'), chunks };
}

/** Runs a command to its end; its exit and output. */
export async function runToEnd(ctx: Ctx, runId: string, command: string[], plan: Partial<TaskPlan> = {}, env: Record<string, string> = {}): Promise<{ exit: RunExit; stdout: string; stderr: string }> {
  await ctx.backend.start(ctx.req(runId, command, plan, env));
  const [out, exit] = await Promise.all([output(ctx.backend, runId), ctx.rec.ended(runId)]);
  return { exit, stdout: out.stdout.toString(), stderr: out.stderr.toString() };
}
