// Turns a validated job spec into the plan the core and the store work with: durations in
// milliseconds, defaults applied. Pure.
import { secretRef, type SecretRef } from './placement.js';
import type { BackendName, Feature, JobSpec, TaskSpec } from './schema.js';

export interface RetryPolicy {
  /** Retries after the first attempt; a task has at most 1 + limit attempts. */
  limit: number;
  initialMs: number;
  factor: number;
  maxMs: number;
}

export interface TaskPlan {
  name: string;
  command: string[];
  image?: string;
  backend?: BackendName;
  env: Record<string, string>;
  needs: string[];
  timeoutMs?: number;
  retry: RetryPolicy;
  workingDir?: string;
  resources?: { cpu?: number; memoryBytes?: number };
  /** Build the image first (docker/kubernetes); the worker puts the built reference in `image`. */
  build?: BuildPlan;
  /** Container user, "uid", "uid:gid" or a name the image knows. */
  user?: string;
  /** Container network; absent means none. */
  network?: string;
  /** Linux capabilities added to an otherwise empty set, e.g. "NET_BIND_SERVICE" (no CAP_ prefix). */
  capabilities?: string[];
  /** Only when the server's policy allows it. */
  privileged?: boolean;
  /** A writable root filesystem; by default it is read-only with a writable /tmp. */
  writableRootfs?: boolean;
  /** Host files or directories copied into the container before it starts. */
  inputs?: CopySpec[];
  /** Container files or directories copied out to the host after it ends. */
  outputs?: CopySpec[];
  /** Secrets given to the task, by name (values are resolved by the worker at start, never stored here). */
  secrets?: SecretRef[];
  /** Pod additions (kubernetes): a Docker sidecar, a Kata runtime class. */
  features?: Feature[];
}

export interface BuildPlan {
  /** Absolute directory on the worker's host. */
  context: string;
  /** Relative to the context; default "Dockerfile". */
  dockerfile: string;
  args: Record<string, string>;
  target?: string;
}

/**
 * One copy. Inputs: `from` is an absolute host path, `to` an absolute container directory it
 * lands in. Outputs: `from` is an absolute container path, `to` an absolute host directory.
 */
export interface CopySpec {
  from: string;
  to: string;
}

export const DEFAULT_BACKOFF = { initialMs: 1_000, factor: 2, maxMs: 300_000 } as const;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** Milliseconds of a duration string already checked against DURATION_RE. */
export function durationMs(text: string): number {
  let total = 0;
  for (const m of text.matchAll(/(\d+)(ms|s|m|h)/g)) total += Number(m[1]) * (UNIT_MS[m[2] ?? 's'] ?? 0);
  return total;
}

const MEMORY_FACTOR: Record<string, number> = {
  '': 1, k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4,
};

export function memoryBytes(text: string): number {
  const m = /^(\d+)([A-Za-z]*)$/.exec(text);
  return m ? Number(m[1]) * (MEMORY_FACTOR[m[2] ?? ''] ?? 1) : NaN;
}

export function cpuCores(v: number | string): number {
  if (typeof v === 'number') return v;
  return v.endsWith('m') ? Number(v.slice(0, -1)) / 1000 : Number(v);
}

export function taskPlan(name: string, t: TaskSpec): TaskPlan {
  const b = t.retries?.backoff;
  const plan: TaskPlan = {
    name,
    command: t.command,
    env: t.env ?? {},
    needs: t.needs ?? [],
    retry: {
      limit: t.retries?.limit ?? 0,
      initialMs: b?.initial ? durationMs(b.initial) : DEFAULT_BACKOFF.initialMs,
      factor: b?.factor ?? DEFAULT_BACKOFF.factor,
      maxMs: b?.max ? durationMs(b.max) : DEFAULT_BACKOFF.maxMs,
    },
  };
  if (t.image !== undefined) plan.image = t.image;
  if (t.backend !== undefined) plan.backend = t.backend;
  if (t.timeout !== undefined) plan.timeoutMs = durationMs(t.timeout);
  if (t.workingDir !== undefined) plan.workingDir = t.workingDir;
  if (t.resources) {
    plan.resources = {};
    if (t.resources.cpu !== undefined) plan.resources.cpu = cpuCores(t.resources.cpu);
    if (t.resources.memory !== undefined) plan.resources.memoryBytes = memoryBytes(t.resources.memory);
  }
  if (t.build) {
    plan.build = { context: t.build.context, dockerfile: t.build.dockerfile ?? 'Dockerfile', args: t.build.args ?? {} };
    if (t.build.target !== undefined) plan.build.target = t.build.target;
  }
  if (t.user !== undefined) plan.user = t.user;
  if (t.network !== undefined) plan.network = t.network;
  if (t.capabilities?.length) plan.capabilities = [...new Set(t.capabilities)];
  if (t.privileged) plan.privileged = true;
  if (t.writableRootfs) plan.writableRootfs = true;
  if (t.inputs?.length) plan.inputs = t.inputs;
  if (t.outputs?.length) plan.outputs = t.outputs;
  if (t.secrets?.length) plan.secrets = t.secrets.map(secretRef);
  if (t.features?.length) plan.features = [...new Set(t.features)];
  return plan;
}

export function jobPlan(spec: JobSpec): TaskPlan[] {
  return Object.entries(spec.tasks).map(([name, t]) => taskPlan(name, t));
}
