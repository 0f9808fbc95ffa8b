// The Builder: turns a build context and a Dockerfile into an image reference. It knows nothing
// of the store; the worker asks for an image before it starts a run.
import type { BuildPlan } from '../spec/plan.js';

export type BuilderName = 'docker' | 'buildah' | 'kaniko';

export interface BuildRequest {
  build: BuildPlan;
  /** Full reference to build and push, tag included (content-addressed by the caller). */
  pushRef: string;
  /** Progress, one line at a time, for the task's log. */
  log: (line: string) => void;
  signal: AbortSignal;
}

export interface Builder {
  readonly name: BuilderName;
  /** Whether `ref` already exists where this builder puts images (registry or local engine). */
  exists(ref: string, signal: AbortSignal): Promise<boolean>;
  /** Builds and pushes (or stores) `pushRef`; rejects with a BuildError saying what failed. */
  build(req: BuildRequest): Promise<void>;
}
