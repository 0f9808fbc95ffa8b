// The registry client's one error type, and how a registry's own error body becomes a line of it.

export type RegistryErrorKind = 'unauthorized' | 'denied' | 'not_found' | 'unreachable' | 'protocol';

export interface RegistryErrorInit {
  kind: RegistryErrorKind;
  /** The registry host as the reference names it. */
  registry: string;
  repository: string;
  /** What went wrong, in Wharf's words; the registry's own text is appended. */
  summary: string;
  status?: number;
  /** The registry's (or token service's) own error, e.g. `unauthorized: authentication required`. */
  remote?: string;
  cause?: unknown;
}

export class RegistryError extends Error {
  override readonly name = 'RegistryError';
  readonly kind: RegistryErrorKind;
  readonly registry: string;
  readonly repository: string;
  readonly status: number | undefined;
  readonly remote: string | undefined;

  constructor(init: RegistryErrorInit) {
    const remote = init.remote !== undefined ? `: ${init.remote}` : init.status !== undefined ? ` (HTTP ${init.status})` : '';
    super(`registry ${init.registry}, repository ${init.repository}: ${init.summary}${remote}`, init.cause !== undefined ? { cause: init.cause } : undefined);
    this.kind = init.kind;
    this.registry = init.registry;
    this.repository = init.repository;
    this.status = init.status;
    this.remote = init.remote;
  }
}

const MAX_REMOTE = 300;

/**
 * The registry's own words from an error body: distribution's `{"errors":[{code,message}]}` as
 * Docker prints it (`unauthorized: authentication required`), a token service's `details` or
 * `error`, or a short plain-text body. Secrets are cut out in case a server echoes them.
 */
export function remoteMessage(body: string, secrets: readonly string[]): string | undefined {
  let text: string | undefined;
  try {
    const doc = JSON.parse(body) as unknown;
    text = fromJson(doc);
  } catch {
    const plain = body.trim();
    if (plain !== '' && !plain.startsWith('<')) text = plain.split('\n')[0];
  }
  if (text === undefined || text === '') return undefined;
  for (const s of secrets) if (s.length >= 3) text = text.split(s).join('<redacted>');
  return text.length > MAX_REMOTE ? `${text.slice(0, MAX_REMOTE)}…` : text;
}

function fromJson(doc: unknown): string | undefined {
  if (typeof doc !== 'object' || doc === null) return undefined;
  const d = doc as Record<string, unknown>;
  const first: unknown = Array.isArray(d['errors']) ? d['errors'][0] : undefined;
  if (typeof first === 'object' && first !== null) {
    const e = first as Record<string, unknown>;
    const code = typeof e['code'] === 'string' ? e['code'].toLowerCase().replace(/_/g, ' ') : undefined;
    const message = typeof e['message'] === 'string' ? e['message'] : undefined;
    if (code !== undefined && message !== undefined) return `${code}: ${message}`;
    return message ?? code;
  }
  for (const key of ['details', 'error_description', 'error', 'message']) {
    if (typeof d[key] === 'string') return d[key];
  }
  return undefined;
}
