// Content addressing: an image's tag is a digest of everything that decides what the build
// produces, so an image that already exists under that tag need not be built again.
import { createHash } from 'node:crypto';
import type { BuildPlan } from '../spec/plan.js';
import { contextDigest, loadContext, type BuildContext } from './context.js';

/** Hex characters kept of the sha256: 128 bits, far beyond any chance collision. */
export const TAG_LENGTH = 32;

export interface TagInput {
  /** "sha256:…" of the context tar (context.ts). */
  contextDigest: string;
  /** The Dockerfile's path inside the context, normalized. */
  dockerfile: string;
  args: Record<string, string>;
  target?: string | undefined;
}

/** Pure: the tag of one build. Build args are sorted, so their order in the job does not matter. */
export function contentTag(input: TagInput): string {
  const args = Object.entries(input.args).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  // Versioned and JSON-encoded, so no two different inputs serialize alike.
  const text = JSON.stringify({ v: 1, context: input.contextDigest, dockerfile: input.dockerfile, args, target: input.target ?? null });
  return createHash('sha256').update(text).digest('hex').slice(0, TAG_LENGTH);
}

export interface TaggedContext {
  tag: string;
  digest: string;
  context: BuildContext;
}

/** Loads and checks the build's context, digests it, and gives the tag. */
export async function tagBuild(build: BuildPlan, signal?: AbortSignal): Promise<TaggedContext> {
  const context = await loadContext(build, signal);
  const digest = await contextDigest(context, signal);
  return { tag: contentTag({ contextDigest: digest, dockerfile: context.dockerfile, args: build.args, target: build.target }), digest, context };
}
