// What a credential may do. `admin` implies every other scope; no other scope implies another
// (as in GitHub's and most APIs' token scopes): a CI token that submits and follows its jobs
// needs `read,submit`, and a submit-only token cannot read other people's jobs or logs.

export const SCOPES = ['read', 'submit', 'cancel', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export function isScope(s: string): s is Scope {
  return (SCOPES as readonly string[]).includes(s);
}

/** Whether a credential holding `held` may do what `needed` guards. */
export function grants(held: readonly Scope[], needed: Scope): boolean {
  return held.includes('admin') || held.includes(needed);
}

/** Deduplicated, in the order of SCOPES, so stored and shown lists compare equal. */
export function canonicalScopes(scopes: Iterable<Scope>): Scope[] {
  const set = new Set(scopes);
  return SCOPES.filter((s) => set.has(s));
}
