// An attempt's secrets: their values fetched by name when the attempt starts (or is taken over),
// turned into what the backend is given and into the redactor that masks them in everything the
// worker stores or reports about the attempt.
import type { RunSecrets } from '../backends/types.js';
import type { AttemptOutcome } from '../core/states.js';
import { Redactor } from '../core/redact.js';
import { SecretDecryptError, SecretMissingError, type SecretSource } from '../secrets/index.js';
import type { SecretRef } from '../spec/placement.js';

export interface AttemptSecrets {
  /** For the backend; undefined when the task has no secrets. */
  run: RunSecrets | undefined;
  /** Masks every value; undefined when there is nothing to mask. */
  redactor: Redactor | undefined;
}

const NONE: AttemptSecrets = { run: undefined, redactor: undefined };

/**
 * The secrets of a task, or why the attempt cannot start (a secret is missing or cannot be
 * opened, or this worker has no secret source): that reason names secrets, never a value.
 * Anything else (the store unreachable) is thrown.
 */
export async function resolveSecrets(
  refs: readonly SecretRef[] | undefined,
  source: SecretSource | undefined,
): Promise<{ ok: true; secrets: AttemptSecrets } | { ok: false; reason: string }> {
  if (!refs?.length) return { ok: true, secrets: NONE };
  const names = [...new Set(refs.map((r) => r.name))];
  if (!source) {
    return { ok: false, reason: `the task uses secrets (${names.join(', ')}) but this worker was started without access to secrets (no secret key or store configured)` };
  }
  let values: Map<string, string>;
  try {
    values = await source.resolve(names);
  } catch (e) {
    if (e instanceof SecretMissingError || e instanceof SecretDecryptError) return { ok: false, reason: e.message };
    throw e;
  }
  const run: RunSecrets = { env: {}, files: [] };
  for (const ref of refs) {
    const value = values.get(ref.name);
    if (value === undefined) return { ok: false, reason: new SecretMissingError(ref.name).message };
    if ('file' in ref) run.files.push({ path: ref.file, value });
    else run.env[ref.env] = value;
  }
  return { ok: true, secrets: { run, redactor: new Redactor([...values.values()]) } };
}

/** The outcome with its text masked. */
export function maskOutcome(outcome: AttemptOutcome, mask: (text: string) => string): AttemptOutcome {
  return 'reason' in outcome ? { ...outcome, reason: mask(outcome.reason) } : outcome;
}
