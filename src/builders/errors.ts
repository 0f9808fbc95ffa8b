// Errors of image builds. Each message names what failed and what the builder or registry said;
// none ever carries a credential (see redact).

/** A build or push that failed; `message` is what to show in the task's log. */
export class BuildError extends Error {
  override readonly name: string = 'BuildError';
}

/** The task's `build` section points at something unusable: fix the job, retrying will not help. */
export class BuildContextError extends BuildError {
  override readonly name = 'BuildContextError';
  constructor(
    /** The job field at fault: `build.context` or `build.dockerfile`. */
    readonly field: 'build.context' | 'build.dockerfile',
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

/** Replaces every occurrence of each non-empty secret (and its base64 forms) with "***". */
export function redact(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const s of secrets) {
    if (!s) continue;
    for (const form of [s, Buffer.from(s).toString('base64'), Buffer.from(s).toString('base64url')]) {
      out = out.split(form).join('***');
    }
  }
  return out;
}

/** What an aborted build rejects with: the signal's reason, else a standard AbortError. */
export function abortReason(signal: AbortSignal): Error {
  const r: unknown = signal.reason;
  if (r instanceof Error) return r;
  return new DOMException('the build was aborted', 'AbortError');
}
