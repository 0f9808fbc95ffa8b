// The container runtime calls of the pod worker on the Docker engine: create (replacing a
// leftover of the same pod), stop with a grace period, and the terminated state of an exit as
// the CRI reports it (Completed/Error/OOMKilled, the termination message).
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { DockerEngine } from '../../../src/docker/engine.js';
import { EngineError } from '../../../src/docker/errors.js';
import type { ContainerInspect } from './events.js';
import { logTail } from './logs.js';
import { CONTAINER_NOT_LOCATED, rfc3339, type Terminated } from './status.js';

export async function createContainer(engine: DockerEngine, name: string, body: Record<string, unknown>): Promise<string> {
  const post = (): Promise<{ Id: string }> => engine.request<{ Id: string }>('POST', '/containers/create', { query: { name }, body });
  try {
    return (await post()).Id;
  } catch (e) {
    // A container left by an earlier attempt at this very pod (same uid): replace it.
    if (!(e instanceof EngineError && e.status === 409)) throw e;
    await engine.request('DELETE', `/containers/${encodeURIComponent(name)}`, { query: { force: true } }).catch(() => undefined);
    return (await post()).Id;
  }
}

/**
 * SIGTERM (the image's stop signal), SIGKILL after `grace` seconds; at once with 0. Resolves when
 * it has stopped; a container already stopped or gone is not an error.
 */
export async function stopContainer(engine: DockerEngine, id: string, grace: number): Promise<void> {
  try {
    if (grace <= 0) await engine.request('POST', `/containers/${id}/kill`, { query: { signal: 'SIGKILL' } });
    else await engine.request('POST', `/containers/${id}/stop`, { query: { t: grace }, timeoutMs: (grace + 60) * 1000 });
  } catch (e) {
    if (!(e instanceof EngineError) || e.status === 0) throw e; // 304/409: stopped already; 404: gone
  }
}

/** containerd's StartError: the process never ran (the runtime's start failure as the message). */
export function startError(id: string, message: string): Terminated {
  return { exitCode: 128, reason: 'StartError', message, startedAt: rfc3339(0), finishedAt: rfc3339(), containerID: `docker://${id}` };
}

export interface ExitContext {
  engine: DockerEngine;
  spec: IContainer | undefined;
  /** Killed by the oomKill fault: reported as the OOM killer's. */
  oomForced: boolean;
  /** What the container wrote to its termination-message path. */
  terminationMessage: () => Promise<string>;
}

export async function exitState(id: string | undefined, info: ContainerInspect | undefined, x: ExitContext): Promise<Terminated> {
  if (!info || !id) return { exitCode: 137, reason: 'ContainerStatusUnknown', message: CONTAINER_NOT_LOCATED };
  const code = info.State.ExitCode;
  const oom = info.State.OOMKilled || x.oomForced;
  let message = await x.terminationMessage();
  if (message === '' && code !== 0 && x.spec?.terminationMessagePolicy === 'FallbackToLogsOnError') {
    message = await logTail(x.engine, id, Boolean(x.spec.tty)).catch(() => '');
  }
  return {
    exitCode: oom && code === 0 ? 137 : code,
    reason: oom ? 'OOMKilled' : code === 0 ? 'Completed' : 'Error',
    message,
    startedAt: rfc3339(Date.parse(info.State.StartedAt)),
    finishedAt: rfc3339(Date.parse(info.State.FinishedAt)),
    containerID: `docker://${id}`,
  };
}
