// Wharf API tokens: `wharf_<id>_<secret>`. The id is public and finds the record; only a hash of
// the secret is stored, so a leaked database holds no usable token.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { AuthInputError, parseTokenName } from './input.js';
import { unauthorized, type AuthError, type TokenPrincipal } from './principal.js';
import { canonicalScopes, type Scope } from './scopes.js';

export interface TokenRecord {
  id: string;
  name: string;
  scopes: Scope[];
  /** sha256 of the secret, lowercase hex. */
  hash: string;
  createdAt: number;
  expiresAt: number | null;
  revokedAt: number | null;
  lastUsedAt?: number | null;
}

/** Where verification finds records; the store implements it. */
export interface TokenRecords {
  get(id: string): Promise<TokenRecord | undefined>;
}

export const TOKEN_PREFIX = 'wharf_';
const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567'; // RFC 4648 base32, lowercase
const ID_LENGTH = 12; // 60 random bits: ids are public, they only need not collide
const SECRET_BYTES = 32;
const SECRET_LENGTH = 43; // base64url of 32 bytes, unpadded
const TOKEN_LENGTH = TOKEN_PREFIX.length + ID_LENGTH + 1 + SECRET_LENGTH;
const TOKEN_RE = /^wharf_([a-z2-7]{12})_([A-Za-z0-9_-]{43})$/;
const SHAPE = `wharf_ + a ${ID_LENGTH}-character id + _ + a ${SECRET_LENGTH}-character secret (${TOKEN_LENGTH} characters)`;

// A plain sha256 is right here, unlike for passwords: the secret is 256 random bits, so there is
// nothing to guess or precompute, and a slow KDF would only slow every request down.
export function hashTokenSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

export interface NewToken {
  scopes: readonly Scope[];
  expiresAt?: number | null;
  name?: string;
}

/** A new token: `token` is shown to the user once and never stored; `record` is what to store. */
export function createToken(opts: NewToken, now = Date.now()): { token: string; record: TokenRecord } {
  const scopes = canonicalScopes(opts.scopes);
  if (scopes.length === 0) throw new AuthInputError('scopes', 'a token needs at least one scope: read, submit, cancel or admin');
  const expiresAt = opts.expiresAt ?? null;
  if (expiresAt !== null && !(Number.isFinite(expiresAt) && expiresAt > now)) {
    throw new AuthInputError('expiresAt', 'must be in the future');
  }
  const id = newId();
  const secret = randomBytes(SECRET_BYTES).toString('base64url');
  const record: TokenRecord = {
    id, name: parseTokenName(opts.name), scopes, hash: hashTokenSecret(secret),
    createdAt: now, expiresAt, revokedAt: null, lastUsedAt: null,
  };
  return { token: `${TOKEN_PREFIX}${id}_${secret}`, record };
}

function newId(): string {
  // 256 is a multiple of 32, so `byte & 31` picks each character with equal chance.
  return [...randomBytes(ID_LENGTH)].map((b) => ID_ALPHABET.charAt(b & 31)).join('');
}

/** Splits a token into id and secret; the AuthError (401, malformed) never contains the input. */
export function parseToken(str: string): { id: string; secret: string } {
  const m = TOKEN_RE.exec(str);
  if (m?.[1] !== undefined && m[2] !== undefined) return { id: m[1], secret: m[2] };
  if (!str.startsWith(TOKEN_PREFIX)) throw unauthorized('malformed', `not a Wharf API token: expected ${SHAPE}`);
  throw unauthorized('malformed', `a malformed Wharf API token of ${str.length} characters: expected ${SHAPE}; check it was copied whole`);
}

// Compared against when the id is unknown, so both failures take the same path.
const NO_HASH = Buffer.alloc(32);

/**
 * The principal a token stands for, or why it is refused (401). The secret is checked before
 * anything about the record is revealed; expiry and revocation are told only to its holder.
 */
export async function verifyToken(str: string, records: TokenRecords, now = Date.now()): Promise<TokenPrincipal | AuthError> {
  let parts: { id: string; secret: string };
  try {
    parts = parseToken(str);
  } catch (e) {
    return e as AuthError;
  }
  const record = await records.get(parts.id);
  const stored = record && /^[0-9a-f]{64}$/.test(record.hash) ? Buffer.from(record.hash, 'hex') : NO_HASH;
  const presented = Buffer.from(hashTokenSecret(parts.secret), 'hex');
  const match = timingSafeEqual(presented, stored);
  if (!record || stored === NO_HASH || !match) {
    return unauthorized('invalid', 'the API token is not valid: no such token, or a wrong secret; check it was copied whole, or create a new one');
  }
  // Any revocation time counts, even one a server with a fast clock wrote "in the future".
  if (record.revokedAt !== null) {
    return unauthorized('revoked', `API token ${record.id} was revoked at ${iso(record.revokedAt)}; create a new one`);
  }
  if (record.expiresAt !== null && record.expiresAt <= now) {
    return unauthorized('expired', `API token ${record.id} expired at ${iso(record.expiresAt)}; create a new one`);
  }
  return { kind: 'token', tokenId: record.id, name: record.name, scopes: canonicalScopes(record.scopes) };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
