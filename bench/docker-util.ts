// Shared by the docker benchmarks: statistics, talking to `wharf serve`, and the raw Engine API
// baseline (the same container, hardened the way the docker backend hardens it, no Wharf).
import { spawnSync } from 'node:child_process';
import type { DockerEngine } from '../src/docker/engine.js';
import { jsonLines } from '../src/docker/streams.js';
import type { JobView } from '../src/spec/api.js';
import { importBusybox } from '../test/infra/busybox.js';
import { startDockerd, type Dockerd } from '../test/infra/dockerd.js';

/** Longest wait for one job (or one batch) before the bench gives up with an error. */
const WAIT_MS = 120_000;

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
}

export const f1 = (x: number): string => x.toFixed(1);

export async function submit(url: string, spec: object): Promise<JobView> {
  const res = await fetch(`${url}/api/v1/jobs`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(spec), signal: AbortSignal.timeout(WAIT_MS),
  });
  if (res.status !== 201) throw new Error(`submitting job ${JSON.stringify((spec as { name?: string }).name)}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as JobView;
}

export async function getJob(url: string, id: string): Promise<JobView> {
  const res = await fetch(`${url}/api/v1/jobs/${id}`, { signal: AbortSignal.timeout(WAIT_MS) });
  if (!res.ok) throw new Error(`GET /jobs/${id}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as JobView;
}

/**
 * Resolves when the job has ended. Its event stream replays from the job's first event, so a
 * job that ended before the stream opened is seen too.
 */
export async function jobEnded(url: string, id: string): Promise<void> {
  const res = await fetch(`${url}/api/v1/events?job=${id}`, { headers: { accept: 'text/event-stream' }, signal: AbortSignal.timeout(WAIT_MS) });
  if (res.status !== 200 || !res.body) throw new Error(`events of job ${id}: HTTP ${res.status}`);
  const decoder = new TextDecoder();
  let buf = '';
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buf += decoder.decode(chunk, { stream: true });
      for (let i; (i = buf.indexOf('\n\n')) >= 0; buf = buf.slice(i + 2)) {
        const frame = buf.slice(0, i);
        if (/^event: end$/m.test(frame)) return;
        const data = frame.split('\n').find((l) => l.startsWith('data: '))?.slice(6);
        if (data && /"type":"job_state".*"to":"(succeeded|failed|canceled)"/.test(data)) return;
      }
    }
  } finally {
    void res.body.cancel().catch(() => undefined);
  }
}

/** The ended job; a job that did not succeed stops the bench with what its attempts said. */
export async function succeeded(url: string, id: string): Promise<JobView> {
  const job = await getJob(url, id);
  if (job.state === 'succeeded') return job;
  const why = job.tasks.map((t) => `${t.name}: ${JSON.stringify(t.attempts.at(-1)?.outcome ?? t.state)}`).slice(0, 3).join('; ');
  throw new Error(`bench job ${job.name} (${id}) ended ${job.state}: ${why}`);
}

/** Submit → the container's start, per task: first attempt's startedAt − the job's createdAt. */
export function submitToStart(job: JobView): number[] {
  return job.tasks.flatMap((t) => {
    const started = t.attempts[0]?.startedAt;
    return started == null ? [] : [started - job.createdAt];
  });
}

/**
 * Resolves once no container carries `label`. The job's end is recorded before its container is
 * removed; waiting keeps one run's removal out of the next measurement. The destroy events
 * stream is open before the first look, so none is missed.
 */
export async function allRemoved(engine: DockerEngine, label: string): Promise<void> {
  const res = await engine.stream('GET', '/events', { query: { filters: { type: ['container'], event: ['destroy'], label: [label] } } });
  const left = async (): Promise<number> =>
    (await engine.request<unknown[]>('GET', '/containers/json', { query: { all: true, filters: { label: [label] } } })).length;
  const timer = setTimeout(() => res.destroy(new Error(`containers labelled ${label} were not removed within ${WAIT_MS} ms`)), WAIT_MS);
  try {
    if (await left() === 0) return;
    for await (const _ of jsonLines(res)) if (await left() === 0) return;
    if (await left() !== 0) throw new Error(`the engine's event stream ended while containers labelled ${label} remain`);
  } finally {
    clearTimeout(timer);
    res.destroy();
  }
}

export const RAW_LABEL = 'wharf-bench.raw';

/** What createBody (src/backends/docker/create-options.ts) sets by default for a task. */
function hardenedBody(image: string, command: string[]): object {
  const [program, ...args] = command;
  return {
    Image: image, Entrypoint: [program], Cmd: args, Labels: { [RAW_LABEL]: '1' },
    Tty: false, OpenStdin: false, AttachStdin: false, AttachStdout: false, AttachStderr: false,
    HostConfig: {
      CapDrop: ['ALL'], SecurityOpt: ['no-new-privileges'], Privileged: false, ReadonlyRootfs: true,
      Tmpfs: { '/tmp': `rw,nosuid,nodev,size=${256 * 1024 * 1024}` }, PidsLimit: 1024, NetworkMode: 'none',
      Init: false, AutoRemove: false, RestartPolicy: { Name: 'no' },
    },
  };
}

export interface RawTimes {
  /** From the call to the start's answer. */
  startMs: number;
  /** create + start + wait + remove. */
  totalMs: number;
}

/** One container through the raw Engine API: create, start, wait, remove; `t0` is when it was asked for. */
export async function rawRun(engine: DockerEngine, image: string, command: string[], t0 = performance.now()): Promise<RawTimes> {
  const { Id } = await engine.request<{ Id: string }>('POST', '/containers/create', { body: hardenedBody(image, command) });
  try {
    await engine.request('POST', `/containers/${Id}/start`);
    const startMs = performance.now() - t0;
    const { StatusCode } = await engine.request<{ StatusCode: number }>('POST', `/containers/${Id}/wait`);
    if (StatusCode !== 0) throw new Error(`raw container ${command.join(' ')} in ${image} exited ${StatusCode}`);
    await engine.request('DELETE', `/containers/${Id}`);
    return { startMs, totalMs: performance.now() - t0 };
  } catch (e) {
    await engine.request('DELETE', `/containers/${Id}`, { query: { force: true } }).catch(() => undefined);
    throw e;
  }
}

/** Runs the cleanups in reverse order of registration; one failing does not skip the others. */
export class Cleanups {
  readonly #steps: (() => unknown)[] = [];

  add(step: () => unknown): void {
    this.#steps.push(step);
  }

  async run(): Promise<void> {
    for (const step of this.#steps.reverse()) {
      try {
        await step();
      } catch (e) {
        console.error(`bench cleanup failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    this.#steps.length = 0;
  }
}

/** What a bench that needs a Docker engine gets: its own dockerd, the busybox image, cleanups. */
export interface BenchEngine {
  dockerd: Dockerd;
  busybox: string;
  cleanups: Cleanups;
}

/**
 * Runs `fn` with a fresh dockerd and busybox, cleaning up everything registered in `cleanups`
 * at the end, on failure and on Ctrl-C (what waited then fails, and `finally` blocks run).
 * Skips, saying so, when there is no dockerd.
 */
export async function withBenchEngine(what: string, fn: (e: BenchEngine) => Promise<void>): Promise<void> {
  if (spawnSync('dockerd', ['--version'], { stdio: 'ignore' }).status !== 0) {
    console.log(`${what} benchmarks skipped: no dockerd on PATH`);
    return;
  }
  const cleanups = new Cleanups();
  let interrupted: string | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    interrupted = signal;
    void cleanups.run();
    setTimeout(() => process.exit(130), 20_000).unref();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const dockerd = await startDockerd();
    cleanups.add(() => dockerd.stop());
    await fn({ dockerd, busybox: await importBusybox(dockerd.socketPath), cleanups });
  } catch (e) {
    if (interrupted) throw new Error(`the ${what} benchmarks were interrupted (${interrupted})`);
    throw e;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await cleanups.run();
  }
}
