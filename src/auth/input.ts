// Parsing what a user types when creating a credential (scopes, expiry, name), with errors that
// name the field and say what was expected. Pure.
import { canonicalScopes, isScope, SCOPES, type Scope } from './scopes.js';

export class AuthInputError extends Error {
  constructor(readonly field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = 'AuthInputError';
  }
}

const EXPECTED_SCOPES = `expected one or more of ${SCOPES.join(', ')}, separated by commas`;

/** `'read,submit'` (or a list) → scopes, deduplicated and in canonical order; never empty. */
export function parseScopes(input: string | readonly string[], field = 'scopes'): Scope[] {
  const parts = (typeof input === 'string' ? input.split(/[,\s]+/) : [...input].map((s) => s.trim()))
    .filter((s) => s !== '');
  if (parts.length === 0) throw new AuthInputError(field, `no scope given; ${EXPECTED_SCOPES}`);
  const unknown = parts.filter((s) => !isScope(s));
  if (unknown.length) {
    const names = unknown.map((s) => JSON.stringify(s)).join(', ');
    throw new AuthInputError(field, `unknown scope${unknown.length > 1 ? 's' : ''} ${names}; ${EXPECTED_SCOPES}`);
  }
  return canonicalScopes(parts.filter(isScope));
}

const UNIT_MS = { h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 } as const;
const DURATION = /^(\d{1,6})([hdw])$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
// A time of day needs an explicit zone: a server's local time zone is rarely what a user meant.
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
const EXPECTED_EXPIRY = 'expected a duration such as 12h, 30d or 4w, or a date such as 2030-01-31 or 2030-01-31T12:00Z';

/** `'30d'`, `'12h'`, `'4w'`, or an ISO date (midnight UTC) / date-time with zone → epoch ms, in the future. */
export function parseExpiry(input: string, now = Date.now(), field = 'expires'): number {
  const text = input.trim();
  const d = DURATION.exec(text);
  let at: number;
  if (d) {
    const n = Number(d[1]);
    if (n === 0) throw new AuthInputError(field, `a duration of zero would expire at once; ${EXPECTED_EXPIRY}`);
    at = now + n * UNIT_MS[d[2] as keyof typeof UNIT_MS];
  } else {
    const m = DATE.exec(text) ?? DATE_TIME.exec(text);
    if (!m) throw new AuthInputError(field, `${JSON.stringify(input)} is not an expiry; ${EXPECTED_EXPIRY}`);
    at = Date.parse(DATE.test(text) ? `${text}T00:00:00Z` : text);
    if (Number.isNaN(at) || !isCalendarDate(Number(m[1]), Number(m[2]), Number(m[3]))) {
      throw new AuthInputError(field, `${JSON.stringify(input)} is not a real date or time; ${EXPECTED_EXPIRY}`);
    }
  }
  if (at <= now) throw new AuthInputError(field, `${JSON.stringify(input)} is in the past; give a future date or a duration`);
  return at;
}

// Date.parse accepts 2026-02-30 (as March 2nd); a typo should not silently move the expiry.
function isCalendarDate(y: number, mo: number, d: number): boolean {
  const t = new Date(Date.UTC(y, mo - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === mo - 1 && t.getUTCDate() === d;
}

const MAX_NAME = 100;

/** A token's label: optional, trimmed, printable, at most 100 characters. */
export function parseTokenName(input: string | undefined, field = 'name'): string {
  const name = (input ?? '').trim();
  if (name.length > MAX_NAME) throw new AuthInputError(field, `is ${name.length} characters long; at most ${MAX_NAME} are allowed`);
  if (/[\u0000-\u001f\u007f]/.test(name)) throw new AuthInputError(field, 'contains control characters; use printable text');
  return name;
}
