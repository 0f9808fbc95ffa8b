// The Builder: turns a build context and a Dockerfile into an image reference. It knows nothing
// of the store; the worker asks ImageBuilds (images.ts) for an image before it starts a run.
import type { BuildPlan } from '../spec/plan.js';
import type { BuildContext } from './context.js';

export type BuilderName = 'docker' | 'buildah' | 'kaniko';

export interface BuildRequest {
  build: BuildPlan;
  /** The checked context (what is sent: .dockerignore applied), as its content tag was computed. */
  context: BuildContext;
  /** "sha256:…" of the context's tar as the tag was computed; a builder that streams the tar can check it. */
  contextDigest: string;
  /** Full reference to build and push, tag included (content-addressed by the caller). */
  pushRef: string;
  /** The reference tasks will run: the same image, maybe under another registry host name. */
  pullRef: string;
  /** Progress, one line at a time, for the task's log. */
  log: (line: string) => void;
  /** Aborting stops the build (and kills what it started). */
  signal: AbortSignal;
}

export interface Builder {
  readonly name: BuilderName;
  /** Whether `ref` already exists where this builder puts images (registry or local engine). */
  exists(ref: string, signal: AbortSignal): Promise<boolean>;
  /**
   * Builds and pushes (or stores) `pushRef`; resolves with the pushed manifest digest when the
   * builder learns it (the task then runs by digest); rejects with a BuildError saying what failed.
   */
  build(req: BuildRequest): Promise<string | void>;
}
