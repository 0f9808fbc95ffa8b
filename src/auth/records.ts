// The store's token rows as the verifier reads them, and a throttled note of each token's use.
import type { AdminStore } from '../store/admin.js';
import { isScope } from './scopes.js';
import type { TokenRecords } from './tokens.js';

export function storeTokens(admin: Pick<AdminStore, 'getToken'>): TokenRecords {
  return {
    async get(id) {
      const t = await admin.getToken(id);
      // A scope this Wharf does not know (written by a newer one) grants nothing.
      return t && { ...t, scopes: t.scopes.filter(isScope) };
    },
  };
}

/** Records lastUsedAt at most once per `everyMs` per token: a busy client is not a write per request. */
export function tokenUseRecorder(admin: Pick<AdminStore, 'touchToken'>, everyMs = 60_000, now: () => number = Date.now): (id: string) => Promise<void> {
  const written = new Map<string, number>();
  return async (id) => {
    const t = now();
    if (t - (written.get(id) ?? -Infinity) < everyMs) return;
    written.set(id, t);
    await admin.touchToken(id, t);
  };
}
