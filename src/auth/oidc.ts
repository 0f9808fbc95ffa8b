// OIDC access tokens (JWTs) from an identity provider, checked against its published keys (JWKS).
// Verification is jose's; this module decides what counts and how failures read.
import { createRemoteJWKSet, errors, jwtVerify, type JWTVerifyGetKey, type RemoteJWKSet } from 'jose';
import { AuthInputError } from './input.js';
import { isLoopbackHost } from './loopback.js';
import { checkScopeMap, scopesFromClaims, type ScopeClaimRule } from './oidc-scopes.js';
import { AuthError, unauthorized, type OidcPrincipal } from './principal.js';

export interface OidcOptions {
  /** Expected `iss`, exactly. */
  issuer: string;
  /** Expected `aud` (one of them must be in the token's). */
  audience: string | readonly string[];
  /** The issuer's JWKS; https unless on loopback (keys fetched in the clear could be forged). */
  jwksUrl: string;
  /** Claim with the scopes (default `scope`); see oidc-scopes.ts for the rules. */
  scopeClaim?: string;
  /** Prefix of Wharf's values in that claim (default `wharf:`; `''` for plain `read submit`). */
  scopePrefix?: string;
  /** Claim value → scopes, for group/role claims; when given, only mapped values count. */
  scopeMap?: Readonly<Record<string, readonly string[]>>;
  /** Allowed clock skew for exp/nbf/iat, seconds (default 30). */
  clockToleranceSec?: number;
  /** How long to wait for the JWKS, ms (default 5000). */
  timeoutMs?: number;
}

const ALGORITHMS = ['RS256', 'ES256'];

/** A failure to fetch or read the issuer's keys, as opposed to a token that does not verify. */
class KeysUnavailable extends Error {
  constructor(readonly detail: string) {
    super(detail);
  }
}

export class OidcVerifier {
  private readonly jwks: RemoteJWKSet;
  private readonly where: string;
  private readonly audience: string[];
  private readonly rule: ScopeClaimRule;

  constructor(private readonly opts: OidcOptions) {
    if (!opts.issuer) throw new AuthInputError('oidc.issuer', 'is empty; give the issuer URL exactly as tokens carry it in "iss"');
    this.audience = typeof opts.audience === 'string' ? [opts.audience] : [...opts.audience];
    if (this.audience.length === 0 || this.audience.some((a) => a === '')) {
      throw new AuthInputError('oidc.audience', 'is empty; give the audience ("aud") the issuer puts in tokens meant for Wharf');
    }
    const url = jwksUrlOf(opts.jwksUrl);
    this.where = `${url.origin}${url.pathname}`;
    this.jwks = createRemoteJWKSet(url, { timeoutDuration: opts.timeoutMs ?? 5000 });
    const map = opts.scopeMap ? checkScopeMap(opts.scopeMap, 'oidc.scopeMap') : undefined;
    this.rule = { claim: opts.scopeClaim ?? 'scope', prefix: opts.scopePrefix ?? 'wharf:', ...(map ? { map } : {}) };
  }

  /** The principal the JWT stands for, or why not: 401 for the token, 503 when the keys cannot be had. */
  async verify(jwt: string, now?: number): Promise<OidcPrincipal | AuthError> {
    const getKey: JWTVerifyGetKey = async (header, token) => {
      try {
        return await this.jwks(header, token);
      } catch (e) {
        // No key for the token's kid/alg is the token's fault; anything else is the IdP's.
        if (e instanceof errors.JWKSNoMatchingKey || e instanceof errors.JWKSMultipleMatchingKeys) throw e;
        throw new KeysUnavailable(fetchFailure(e));
      }
    };
    try {
      const { payload } = await jwtVerify(jwt, getKey, {
        issuer: this.opts.issuer,
        audience: this.audience,
        algorithms: ALGORITHMS,
        clockTolerance: this.opts.clockToleranceSec ?? 30,
        // A token without exp would never expire; one without sub names nobody.
        requiredClaims: ['exp', 'sub'],
        ...(now === undefined ? {} : { currentDate: new Date(now) }),
      });
      const subject = payload.sub ?? '';
      if (subject === '') return unauthorized('invalid', 'the OIDC token has an empty subject ("sub")');
      return { kind: 'oidc', subject, scopes: scopesFromClaims(payload, this.rule) };
    } catch (e) {
      return this.failure(e);
    }
  }

  private failure(e: unknown): AuthError {
    if (e instanceof KeysUnavailable) {
      return new AuthError(503, 'idp_unavailable', `cannot verify the OIDC token now: the issuer's keys at ${this.where} ${e.detail}; try again later`);
    }
    if (e instanceof errors.JWTExpired) return unauthorized('expired', 'the OIDC token has expired; get a new one from the identity provider');
    if (e instanceof errors.JWTClaimValidationFailed) {
      switch (e.claim) {
        case 'iss': return unauthorized('wrong_issuer', `the OIDC token was not issued by ${this.opts.issuer}`);
        case 'aud': return unauthorized('wrong_audience', `the OIDC token is not meant for this server: its audience is not ${this.audience.join(' or ')}`);
        case 'nbf': return unauthorized('invalid', 'the OIDC token is not valid yet ("nbf" is in the future); check the clocks');
        default: return unauthorized('invalid', `the OIDC token's "${e.claim}" claim is ${e.reason === 'missing' ? 'missing' : 'not valid'}`);
      }
    }
    if (e instanceof errors.JOSEAlgNotAllowed) {
      return unauthorized('bad_signature', `the OIDC token is signed with an algorithm this server does not accept; expected ${ALGORITHMS.join(' or ')}`);
    }
    if (e instanceof errors.JWSSignatureVerificationFailed || e instanceof errors.JWKSNoMatchingKey || e instanceof errors.JWKSMultipleMatchingKeys) {
      return unauthorized('bad_signature', `the OIDC token's signature does not verify with the keys of ${this.opts.issuer}`);
    }
    if (e instanceof errors.JOSEError) return unauthorized('malformed', 'the OIDC token is not a well-formed signed JWT');
    throw e;
  }
}

function jwksUrlOf(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new AuthInputError('oidc.jwksUrl', 'is not a URL; give the issuer\'s jwks_uri, e.g. https://idp.example/.well-known/jwks.json');
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    throw new AuthInputError('oidc.jwksUrl', `must use https (http only on loopback), not ${url.protocol}`);
  }
  return url;
}

/** What went wrong fetching the JWKS, in words (jose and fetch errors carry no secrets). */
function fetchFailure(e: unknown): string {
  if (e instanceof errors.JWKSTimeout) return 'did not answer in time';
  if (e instanceof errors.JWKSInvalid) return 'are not a valid JSON Web Key Set';
  if (e instanceof errors.JOSEError) return `could not be read (${e.message})`;
  const cause = e instanceof Error && e.cause instanceof Error ? e.cause : e;
  const code = typeof cause === 'object' && cause !== null && 'code' in cause ? String(cause.code) : '';
  return code ? `could not be fetched (${code})` : 'could not be fetched';
}
