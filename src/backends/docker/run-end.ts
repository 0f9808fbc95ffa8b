// How a stopped container's run ended: its exit from one inspect, after its outputs are copied
// out (the outputs are on the container, in a label, so a worker that adopted the run copies them too).
import { formatError } from '../../core/format-error.js';
import type { DockerEngine } from '../../docker/engine.js';
import { EngineError } from '../../docker/errors.js';
import type { CopySpec } from '../../spec/plan.js';
import type { RunState } from '../types.js';
import { copyOut } from './archive.js';
import { OWN_LABELS } from './create-options.js';
import { stateOf, type ContainerInspect } from './state.js';

export async function inspectContainer(engine: DockerEngine, name: string): Promise<ContainerInspect | undefined> {
  try {
    return await engine.request<ContainerInspect>('GET', `/containers/${encodeURIComponent(name)}/json`);
  } catch (e) {
    if (e instanceof EngineError && e.status === 404) return undefined;
    throw e;
  }
}

export function outputsOf(c: ContainerInspect): CopySpec[] {
  const text = c.Config?.Labels?.[OWN_LABELS.outputs];
  if (!text) return [];
  try {
    const v: unknown = JSON.parse(text);
    return Array.isArray(v) ? v.filter((x): x is CopySpec => typeof x?.from === 'string' && typeof x?.to === 'string') : [];
  } catch {
    return [];
  }
}

/**
 * The final state of a container that stopped, or undefined when it is gone. Outputs are copied
 * whatever the exit (a failed task's reports help); a copy failure after exit 0 makes the run an
 * error naming the path, after any other exit the exit is what counts.
 */
export async function readEnd(engine: DockerEngine, name: string, copyOutputs: boolean): Promise<RunState | undefined> {
  const c = await inspectContainer(engine, name);
  if (!c) return undefined;
  const state = stateOf(c);
  if (state.phase !== 'ended' || state.exit.kind === 'start_failed' || !copyOutputs) return state;
  let failure: string | undefined;
  for (const spec of outputsOf(c)) {
    try {
      await copyOut(engine, c.Id, spec);
    } catch (e) {
      failure ??= formatError(e);
    }
  }
  if (failure !== undefined && state.exit.kind === 'exited' && state.exit.code === 0) {
    return { ...state, exit: { kind: 'error', reason: `copying the outputs: ${failure}` } };
  }
  return state;
}
