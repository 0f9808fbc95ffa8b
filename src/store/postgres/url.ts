// Database URLs in messages: the password never appears, however the URL is written.

const REDACTED = '***';

/** The URL with its password (in the user info or a `password=` parameter) replaced by ***. */
export function redactDbUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = REDACTED;
    for (const key of [...u.searchParams.keys()]) {
      if (key.toLowerCase() === 'password') u.searchParams.set(key, REDACTED);
    }
    // URL encodes the stars (in user info) as themselves, but keep the output plain either way.
    return u.toString().replaceAll('%2A', '*');
  } catch {
    // Not a URL we can parse: keep the scheme and the user, blank whatever follows the user's
    // ":" up to the last "@" (a password may hold "/" or "#"), and any password parameter.
    const m = /^([^:/?#]+:\/\/)([^:@]*)(:[^]*)?@([^@]*)$/.exec(url);
    const head = m ? `${m[1]}${m[2]}${m[3] === undefined ? '' : `:${REDACTED}`}@${m[4]}` : url;
    return head.replace(/([?&]password=)[^&#]*/gi, `$1${REDACTED}`);
  }
}

export function isPostgresUrl(db: string): boolean {
  return /^postgres(ql)?:\/\//i.test(db);
}

/** PostgreSQL could not be reached or refused us; the message names the (redacted) URL. */
export class PostgresUnavailableError extends Error {
  constructor(readonly url: string, readonly reason: string, readonly code: string | undefined) {
    super(`cannot use the PostgreSQL database at ${url}: ${reason}`);
    this.name = 'PostgresUnavailableError';
  }
}

/**
 * Wraps an error from connecting or migrating. Only its message and code are kept: the
 * original may hold connection details, and nothing from the pool's config should travel.
 */
export function unavailable(redactedUrl: string, err: unknown, secret: string | undefined): PostgresUnavailableError {
  const code = err instanceof Error ? (err as Error & { code?: unknown }).code : undefined;
  let reason = err instanceof Error ? err.message || err.name : String(err);
  if (secret) reason = reason.replaceAll(secret, REDACTED);
  return new PostgresUnavailableError(redactedUrl, reason, typeof code === 'string' ? code : undefined);
}

/** The password a URL carries, to scrub it from any message that might echo it. */
export function passwordOf(url: string): string | undefined {
  try {
    const u = new URL(url);
    const p = u.password !== '' ? decodeURIComponent(u.password) : u.searchParams.get('password');
    return p === null || p === '' ? undefined : p;
  } catch {
    return undefined;
  }
}
