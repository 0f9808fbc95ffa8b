// Starting one run: image (pulled if missing), container, inputs, then POST /start. What cannot
// start ends as `start_failed` with the engine's own reason; only engine failures reject.
import type { DockerEngine } from '../../docker/engine.js';
import { EngineError } from '../../docker/errors.js';
import { LABELS, type StartRequest } from '../types.js';
import { CopyError, copyIn } from './archive.js';
import { containerName, createBody, volumeTargets, type CreateConfig } from './create-options.js';
import { ensureImage, type RegistryCredentials } from './image.js';
import { inspectContainer } from './run-end.js';
import { putSecretFiles } from './secret-files.js';
import { phaseOf } from './state.js';
import { containerOwner } from './user.js';

export interface StartContext {
  engine: DockerEngine;
  instanceId: string;
  credentials: RegistryCredentials | undefined;
  config: CreateConfig;
  /** Checked before each step that would make the run go further. */
  cancelled(): 'removed' | 'stopped' | undefined;
  failStart(reason: string): void;
  running(startedAt: number): void;
  /** The container already stopped: read its end. */
  finish(): void;
}

export async function startRun(x: StartContext, req: StartRequest): Promise<void> {
  const built = createBody(req, x.config);
  if ('error' in built) return x.failStart(built.error);
  const missing = await ensureImage(x.engine, built.body.Image, x.credentials);
  if (missing !== undefined) return x.failStart(missing);
  if (x.cancelled()) return x.failStart(`${x.cancelled()} before it started`);
  let id: string;
  try {
    id = (await x.engine.request<{ Id: string }>('POST', '/containers/create', { query: { name: containerName(req.runId) }, body: built.body })).Id;
  } catch (e) {
    if (e instanceof EngineError && e.status === 409) return carryOn(x, req);
    if (e instanceof EngineError && e.status >= 400) return x.failStart(e.message);
    throw e;
  }
  return prepareAndStart(x, id, req);
}

/** The container is there already (a start repeated after a crash): carry on from where it is, never a second one. */
async function carryOn(x: StartContext, req: StartRequest): Promise<void> {
  const name = containerName(req.runId);
  const c = await inspectContainer(x.engine, name);
  if (!c) return x.failStart(`container ${name} vanished while being created`);
  const owner = c.Config?.Labels?.[LABELS.instance];
  if (owner !== x.instanceId) throw new Error(`container ${name} exists and is not this instance's (its ${LABELS.instance} is ${JSON.stringify(owner ?? null)})`);
  const p = phaseOf(c);
  if (p.phase === 'created') return prepareAndStart(x, c.Id, req);
  if (p.phase === 'running') return x.running(p.startedAt);
  if (p.phase === 'start_failed') return x.failStart(p.reason);
  x.finish();
}

async function prepareAndStart(x: StartContext, id: string, req: StartRequest): Promise<void> {
  const { plan } = req;
  const files = req.secrets?.files ?? [];
  const volumes = volumeTargets(plan, files.map((f) => f.path));
  const inputs = plan.inputs ?? [];
  const putting = inputs.length > 0 || files.length > 0;
  // The user the container runs as (the task's, else the image's) owns what is put in.
  const user = putting ? plan.user ?? (await inspectContainer(x.engine, id))?.Config?.User ?? '' : '';
  const owner = putting ? (await containerOwner(x.engine, id, user)) ?? { uid: 0, gid: 0 } : { uid: 0, gid: 0 };
  for (const input of inputs) {
    const base = volumes.find((v) => input.to === v || input.to.startsWith(`${v}/`)) ?? '/';
    try {
      await copyIn(x.engine, id, input, base, owner);
    } catch (e) {
      if (e instanceof CopyError) return x.failStart(e.message);
      throw e;
    }
  }
  // After the inputs: a secret is what the task asked for at its path, whatever an input brought.
  try {
    if (files.length) await putSecretFiles(x.engine, id, files, volumes, owner);
  } catch (e) {
    if (e instanceof CopyError) return x.failStart(e.message);
    throw e;
  }
  if (x.cancelled()) return x.failStart(`${x.cancelled()} before it started`);
  try {
    await x.engine.request('POST', `/containers/${id}/start`);
  } catch (e) {
    // e.g. "… OCI runtime create failed: … exec: "x": executable file not found in $PATH: unknown"
    if (e instanceof EngineError && e.status >= 400) return x.failStart(e.message);
    throw e;
  }
}
