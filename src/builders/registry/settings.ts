// Where built images go. The builder pushes to `push` and the runtime pulls from `pull`: the
// same repository may be known under two names (a cluster-internal service name for the
// builder, a NodePort `localhost:…` for the kubelet), so the two may differ.
import { z } from 'zod';
import { formatImageRef, ImageRefError, parseImageRef } from './image-ref.js';

export interface RegistrySettings {
  /** Repository prefix images are pushed under, e.g. `localhost:5000/wharf`. */
  push: string;
  /** The same place as the puller names it; default `push`. */
  pull?: string;
  /** Hosts reached over plain http besides loopback ones. */
  insecure?: string[];
}

export class RegistrySettingsError extends Error {
  override readonly name = 'RegistrySettingsError';
}

/** The problem with a `[registry/]path` prefix, if any. */
function prefixProblem(prefix: string): string | undefined {
  if (prefix.includes('@')) return 'must be a registry and repository prefix without a digest, e.g. "localhost:5000/wharf"';
  try {
    parseImageRef(`${prefix}/probe`);
    return undefined;
  } catch (e) {
    if (e instanceof ImageRefError) return `is not a registry and repository prefix (e.g. "localhost:5000/wharf"): ${e.part} ${e.detail}`;
    throw e;
  }
}

const prefix = z.string().trim().min(1, 'must not be empty').superRefine((v, ctx) => {
  const problem = prefixProblem(v.replace(/\/+$/, ''));
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const HOST = /^(?:[a-zA-Z0-9.-]+|\[[a-fA-F0-9:]+\])(?::[0-9]+)?$/;

const schema = z.strictObject({
  push: prefix,
  pull: prefix.optional(),
  insecure: z.array(z.string().regex(HOST, 'must be a host or host:port')).optional(),
});

/** Validates settings from config; the error names each bad field. */
export function parseRegistrySettings(input: unknown): RegistrySettings {
  const r = schema.safeParse(input);
  if (!r.success) {
    const lines = r.error.issues.map((i) => `registry${i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('')}: ${i.message}`);
    throw new RegistrySettingsError(`invalid registry settings: ${lines.join('; ')}`);
  }
  const out: RegistrySettings = { push: r.data.push.replace(/\/+$/, '') };
  if (r.data.pull !== undefined) out.pull = r.data.pull.replace(/\/+$/, '');
  if (r.data.insecure !== undefined) out.insecure = r.data.insecure;
  return out;
}

/**
 * The references one image has for the pusher and for the puller, fully qualified:
 * `imageRefs({push: 'localhost:5000/wharf', pull: '127.0.0.1:5000/wharf'}, 'app', 't1')` →
 * `{push: 'localhost:5000/wharf/app:t1', pull: '127.0.0.1:5000/wharf/app:t1'}`.
 */
export function imageRefs(settings: RegistrySettings, repository: string, tag: string): { push: string; pull: string } {
  const make = (prefix: string): string => formatImageRef(parseImageRef(`${prefix}/${repository}:${tag}`));
  return { push: make(settings.push), pull: make(settings.pull ?? settings.push) };
}
