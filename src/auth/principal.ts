// Who a request acts for, and the one error for a request refused by authentication.
import { grants, SCOPES, type Scope } from './scopes.js';

export type Principal =
  | { kind: 'token'; tokenId: string; name: string; scopes: readonly Scope[] }
  | { kind: 'oidc'; subject: string; scopes: readonly Scope[] }
  /** Only in open mode (a loopback-bound server) for a request with no credentials at all. */
  | { kind: 'anonymous'; scopes: readonly Scope[] };

export type TokenPrincipal = Extract<Principal, { kind: 'token' }>;
export type OidcPrincipal = Extract<Principal, { kind: 'oidc' }>;

export const ANONYMOUS: Principal = Object.freeze({ kind: 'anonymous', scopes: Object.freeze([...SCOPES]) });

/** Why a credential was refused; `code` and `status` are what the client sees, this is for tests and logs. */
export type AuthReason =
  | 'missing' | 'malformed' | 'unsupported' | 'invalid' | 'expired' | 'revoked'
  | 'wrong_issuer' | 'wrong_audience' | 'bad_signature' | 'insufficient_scope' | 'idp_unavailable';

export type AuthStatus = 401 | 403 | 503;
export type AuthErrorCode = 'unauthorized' | 'forbidden' | 'unavailable';

/**
 * 401: no or a bad credential. 403: a good credential without the scope. 503: the credential
 * could not be checked (the OIDC issuer's keys are unreachable) — it may well be valid, so a
 * client should retry rather than discard it. Messages never contain the credential.
 */
export class AuthError extends Error {
  readonly code: AuthErrorCode;

  constructor(
    readonly status: AuthStatus,
    readonly reason: AuthReason,
    message: string,
    /** The scope that was missing, for a 403. */
    readonly scope?: Scope,
  ) {
    super(message);
    this.name = 'AuthError';
    this.code = status === 401 ? 'unauthorized' : status === 403 ? 'forbidden' : 'unavailable';
  }
}

export function unauthorized(reason: AuthReason, message: string): AuthError {
  return new AuthError(401, reason, message);
}

/** How a principal is named in messages and logs (never a secret). */
export function describePrincipal(p: Principal): string {
  switch (p.kind) {
    case 'token': return p.name ? `API token ${p.tokenId} (${p.name})` : `API token ${p.tokenId}`;
    case 'oidc': return `OIDC subject ${JSON.stringify(p.subject)}`;
    case 'anonymous': return 'anonymous';
  }
}

/** Who, as the audit log names them: "token:<id> (<name>)", "oidc:<subject>", "anonymous". */
export function actorOf(p: Principal | null | undefined): string {
  if (!p) return 'anonymous';
  switch (p.kind) {
    case 'token': return p.name ? `token:${p.tokenId} (${p.name})` : `token:${p.tokenId}`;
    case 'oidc': return `oidc:${p.subject}`;
    case 'anonymous': return 'anonymous';
  }
}

/** The 403 for a principal lacking `scope`, or undefined when it holds it (or admin). */
export function scopeError(p: Principal, scope: Scope): AuthError | undefined {
  if (grants(p.scopes, scope)) return undefined;
  const held = p.scopes.length ? `it has ${p.scopes.join(', ')}` : 'it has no Wharf scopes';
  return new AuthError(403, 'insufficient_scope',
    `${describePrincipal(p)} lacks the ${scope} scope (${held}); use a credential with the ${scope} or admin scope`, scope);
}

/** Throws the 403 AuthError unless `p` holds `scope` (or admin). */
export function requireScope(p: Principal, scope: Scope): void {
  const e = scopeError(p, scope);
  if (e) throw e;
}
