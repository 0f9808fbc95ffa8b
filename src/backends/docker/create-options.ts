// The body of POST /containers/create for one attempt. Pure: TaskPlan + env + labels in, JSON out.
import { posix } from 'node:path';
import type { CopySpec } from '../../spec/plan.js';
import type { StartRequest } from '../types.js';
import { secretDir } from './secret-files.js';

/** Labels the backend adds for itself; they are not part of a run's labels as reported back. */
export const OWN_LABELS = {
  runId: 'wharf.dev/run-id',
  /** The outputs to copy when the run ends, so a worker that adopts the run can copy them too. */
  outputs: 'wharf.dev/outputs',
} as const;

export const CONTAINER_PREFIX = 'wharf-';
const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export function containerName(runId: string): string {
  return `${CONTAINER_PREFIX}${runId}`;
}

export function validRunId(runId: string): boolean {
  return NAME_RE.test(runId) && runId.length <= 200;
}

export interface CreateConfig {
  pidsLimit: number;
  /** Size cap of the tmpfs on /tmp (its pages count against the memory limit too). */
  tmpfsBytes: number;
  /** HostConfig.LogConfig.Type; undefined leaves the engine's default. */
  logDriver?: string | undefined;
}

export interface ContainerCreateBody {
  Image: string;
  Entrypoint: string[];
  Cmd: string[];
  Env: string[];
  Labels: Record<string, string>;
  User?: string;
  WorkingDir?: string;
  Tty: false;
  OpenStdin: false;
  AttachStdin: false;
  AttachStdout: false;
  AttachStderr: false;
  HostConfig: {
    CapDrop: string[];
    CapAdd: string[];
    SecurityOpt: string[];
    Privileged: boolean;
    ReadonlyRootfs: boolean;
    Tmpfs: Record<string, string>;
    Mounts: { Type: 'volume'; Target: string; VolumeOptions: { Labels: Record<string, string> } }[];
    PidsLimit: number;
    Memory?: number;
    MemorySwap?: number;
    NanoCpus?: number;
    NetworkMode: string;
    Init: false;
    AutoRemove: false;
    RestartPolicy: { Name: 'no' };
    LogConfig?: { Type: string; Config: Record<string, string> };
  };
}

/**
 * Container paths that need a volume of their own: the archive API cannot write into a read-only
 * rootfs (the engine answers "container rootfs is marked read-only", checked with dockerd 28),
 * and the tmpfs on /tmp is gone once the container stops, so an output there would be lost. A
 * volume (anonymous, removed with the container) fixes both; so inputs land in a volume at each
 * `to`, and an output `from` on a read-only rootfs or under /tmp is a volume — a directory.
 * Secret files are put in like inputs: a volume at each one's directory.
 */
export function volumeTargets(
  plan: { writableRootfs?: boolean; inputs?: CopySpec[]; outputs?: CopySpec[] },
  secretFiles: readonly string[] = [],
): string[] {
  const wanted = [...(plan.inputs ?? []).map((c) => c.to), ...(plan.outputs ?? []).map((c) => c.from), ...secretFiles.map(secretDir)]
    .map((p) => posix.normalize(p).replace(/(.)\/+$/, '$1'))
    .filter((p) => !plan.writableRootfs || within(p, '/tmp'));
  const chosen: string[] = [];
  // Shallowest first: a path inside a chosen volume is already persistent and writable.
  for (const p of [...new Set(wanted)].sort((a, b) => depth(a) - depth(b) || a.localeCompare(b))) {
    if (!chosen.some((c) => within(p, c))) chosen.push(p);
  }
  return chosen;
}

function within(p: string, dir: string): boolean {
  return p === dir || p.startsWith(dir === '/' ? '/' : `${dir}/`);
}

function depth(p: string): number {
  return p === '/' ? 0 : p.split('/').length - 1;
}

export function createBody(req: StartRequest, cfg: CreateConfig): { body: ContainerCreateBody } | { error: string } {
  const { plan } = req;
  const [program, ...args] = plan.command;
  if (program === undefined || program === '') return { error: 'no command given' };
  if (!plan.image) return { error: 'no image given (the docker backend runs every task in a container image)' };
  const files = (req.secrets?.files ?? []).map((f) => f.path);
  const atRoot = files.filter((f) => secretDir(f) === '/');
  if (atRoot.length && plan.writableRootfs !== true) {
    return { error: `secret file ${atRoot.join(', ')}: a file directly in / needs writableRootfs; put it in a directory of its own (e.g. /run/secrets${atRoot[0] ?? ''})` };
  }
  const volumes = volumeTargets(plan, files);
  if (volumes.includes('/')) return { error: 'an input cannot land in / and an output cannot be / on a read-only root filesystem; set writableRootfs' };

  const labels: Record<string, string> = { ...req.labels, [OWN_LABELS.runId]: req.runId };
  if (plan.outputs?.length) labels[OWN_LABELS.outputs] = JSON.stringify(plan.outputs);
  const tmpfs: Record<string, string> = {};
  if (!volumes.includes('/tmp')) tmpfs['/tmp'] = `rw,nosuid,nodev,size=${cfg.tmpfsBytes}`;

  const body: ContainerCreateBody = {
    Image: plan.image,
    // The task's command is the whole argv (as on the local backend and Kubernetes' `command`):
    // the image's ENTRYPOINT must not be put in front of it, so it becomes the entrypoint.
    Entrypoint: [program],
    Cmd: args,
    // Secret variables too: the engine has no other way to give them (docker inspect shows them
    // to whoever holds the engine's socket, who is root on its host anyway).
    Env: Object.entries({ ...req.env, ...req.secrets?.env }).map(([k, v]) => `${k}=${v}`),
    Labels: labels,
    Tty: false,
    OpenStdin: false,
    AttachStdin: false,
    AttachStdout: false,
    AttachStderr: false,
    HostConfig: {
      CapDrop: ['ALL'],
      CapAdd: [...(plan.capabilities ?? [])],
      // The engine's default seccomp profile stays: a SecurityOpt only for it would replace it.
      SecurityOpt: ['no-new-privileges'],
      Privileged: plan.privileged === true,
      ReadonlyRootfs: plan.writableRootfs !== true,
      Tmpfs: tmpfs,
      Mounts: volumes.map((Target) => ({ Type: 'volume', Target, VolumeOptions: { Labels: { ...req.labels } } })),
      PidsLimit: cfg.pidsLimit,
      NetworkMode: plan.network ?? 'none',
      // No init process: the engine's "executable file not found" at start stays a start
      // failure (behind docker-init it would be an exit 127), and exit codes come from the task
      // itself. The price: as PID 1 the task ignores SIGTERM unless it handles it, so stop()
      // kills it after the grace period — exactly what `docker stop` does.
      Init: false,
      AutoRemove: false,
      RestartPolicy: { Name: 'no' },
    },
  };
  if (plan.user !== undefined) body.User = plan.user;
  if (plan.workingDir !== undefined) body.WorkingDir = plan.workingDir;
  const mem = plan.resources?.memoryBytes;
  if (mem !== undefined && Number.isFinite(mem) && mem > 0) {
    body.HostConfig.Memory = Math.floor(mem);
    body.HostConfig.MemorySwap = Math.floor(mem); // equal: no swap on top, so the limit is real
  }
  const cpu = plan.resources?.cpu;
  if (cpu !== undefined && Number.isFinite(cpu) && cpu > 0) body.HostConfig.NanoCpus = Math.round(cpu * 1e9);
  if (cfg.logDriver) body.HostConfig.LogConfig = { Type: cfg.logDriver, Config: {} };
  return { body };
}
