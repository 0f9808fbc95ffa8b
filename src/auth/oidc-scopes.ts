// How a verified JWT's claims become Wharf scopes. Pure.
//
// By default the claim is `scope` (RFC 9068: space-separated; an array is accepted too) and only
// values prefixed `wharf:` count — `wharf:read wharf:submit` — because a token from a shared IdP
// carries other APIs' scopes too (`openid`, `email`, someone else's `admin`). `scopePrefix: ''`
// takes plain `read submit`. With a `scopeMap` (for group or role claims: `{ "platform-admins":
// ["admin"] }`) only mapped values count, and the prefix is not used. Unknown values are ignored.
import type { JWTPayload } from 'jose';
import { AuthInputError } from './input.js';
import { canonicalScopes, isScope, type Scope } from './scopes.js';

export interface ScopeClaimRule {
  /** Claim holding the values (default `scope`); `a.b` reaches a nested claim (e.g. `realm_access.roles`). */
  claim: string;
  prefix: string;
  map?: Readonly<Record<string, readonly Scope[]>>;
}

export function scopesFromClaims(payload: JWTPayload, rule: ScopeClaimRule): Scope[] {
  const values = claimValues(claimAt(payload, rule.claim));
  const { map } = rule;
  if (map) return canonicalScopes(values.flatMap((v) => (Object.hasOwn(map, v) ? map[v] ?? [] : [])));
  const out: Scope[] = [];
  for (const v of values) {
    if (!v.startsWith(rule.prefix)) continue;
    const s = v.slice(rule.prefix.length);
    if (isScope(s)) out.push(s);
  }
  return canonicalScopes(out);
}

/** The claim by its exact name (names such as `https://example.com/roles` hold dots), else by path. */
function claimAt(payload: JWTPayload, name: string): unknown {
  if (Object.hasOwn(payload, name)) return payload[name];
  let at: unknown = payload;
  for (const key of name.split('.')) {
    if (typeof at !== 'object' || at === null || !Object.hasOwn(at, key)) return undefined;
    at = (at as Record<string, unknown>)[key];
  }
  return at;
}

function claimValues(v: unknown): string[] {
  if (typeof v === 'string') return v.split(/\s+/).filter((s) => s !== '');
  if (Array.isArray(v)) return v.filter((s): s is string => typeof s === 'string');
  return [];
}

/** Checks a configured scope map: every value a known scope. */
export function checkScopeMap(map: Readonly<Record<string, readonly string[]>>, field: string): Record<string, Scope[]> {
  const out: Record<string, Scope[]> = {};
  for (const [key, scopes] of Object.entries(map)) {
    const bad = scopes.filter((s) => !isScope(s));
    if (bad.length) {
      throw new AuthInputError(`${field}.${key}`, `unknown scope ${bad.map((s) => JSON.stringify(s)).join(', ')}; expected read, submit, cancel or admin`);
    }
    out[key] = canonicalScopes(scopes.filter(isScope));
  }
  return out;
}
