// The admin operations (tokens, secrets, the audit log) over the store's admin records, for the
// HTTP routes and the in-process CLI alike. Every change is written to the audit log with who
// made it; token secrets and secret values never leave here except the new token, once.
import { AuthInputError, createToken, parseExpiry, parseScopes, parseTokenName } from '../auth/index.js';
import { ApiError } from '../client/types.js';
import { formatError } from '../core/format-error.js';
import { parseSecretName, parseSecretValue, SecretNameError, SecretValueError, type SecretBox } from '../secrets/index.js';
import type { AuditAction, AuditPage, CreatedToken, CreateTokenRequest, SecretInfo, TokenInfo } from '../spec/admin-api.js';
import type { AdminStore, StoredToken } from '../store/admin.js';
import { invalidRequest } from './errors.js';

export const AUDIT_LIMIT = { default: 100, max: 1000 } as const;

export interface AdminDeps {
  admin: AdminStore;
  /** Seals secret values (the key is loaded, or made, on first use); without it, secrets cannot be set. */
  box?: () => Promise<SecretBox>;
  now?: () => number;
}

export function tokenInfo(t: StoredToken): TokenInfo {
  return { id: t.id, name: t.name, scopes: t.scopes, createdAt: t.createdAt, expiresAt: t.expiresAt, revokedAt: t.revokedAt, lastUsedAt: t.lastUsedAt };
}

/** A user's mistake in a field, as the API's 400 with the field named. */
function fieldError(e: unknown, fallbackField: string): ApiError {
  if (e instanceof AuthInputError || e instanceof SecretNameError) {
    // Their messages start with the field, which the detail's path already says.
    return invalidRequest([{ path: e.field, message: e.message.replace(`${e.field}: `, '') }]);
  }
  if (e instanceof SecretValueError) return invalidRequest([{ path: 'value', message: e.message }]);
  return invalidRequest([{ path: fallbackField, message: formatError(e) }]);
}

export class AdminService {
  private readonly now: () => number;

  constructor(private readonly d: AdminDeps, private readonly actor: string) {
    this.now = d.now ?? Date.now;
  }

  /** Records an action of this actor. */
  audit(action: AuditAction, target: string): Promise<unknown> {
    return this.d.admin.appendAudit({ actor: this.actor, action, target });
  }

  async createToken(req: CreateTokenRequest): Promise<CreatedToken> {
    let made: ReturnType<typeof createToken>;
    try {
      const scopes = parseScopes(req.scopes, 'scopes');
      const name = req.name === undefined ? 'token' : parseTokenName(req.name);
      const expiresAt = req.expires === undefined ? null : parseExpiry(req.expires, this.now(), 'expires');
      made = createToken({ scopes, name, ...(expiresAt !== null ? { expiresAt } : {}) }, this.now());
    } catch (e) {
      throw fieldError(e, 'scopes');
    }
    const stored: StoredToken = { ...made.record, scopes: [...made.record.scopes], lastUsedAt: null };
    await this.d.admin.insertToken(stored);
    await this.audit('token.create', stored.id);
    return { token: made.token, info: tokenInfo(stored) };
  }

  async listTokens(): Promise<TokenInfo[]> {
    return (await this.d.admin.listTokens()).map(tokenInfo);
  }

  async revokeToken(id: string): Promise<TokenInfo> {
    const t = await this.d.admin.getToken(id);
    if (!t) throw new ApiError('not_found', `no token "${id}"`);
    if (t.revokedAt !== null) throw new ApiError('conflict', `token "${id}" was revoked already`);
    await this.d.admin.revokeToken(id);
    await this.audit('token.revoke', id);
    const after = await this.d.admin.getToken(id);
    return tokenInfo(after ?? t);
  }

  async setSecret(name: string, value: string): Promise<{ name: string; created: boolean }> {
    let checked: string;
    try {
      checked = parseSecretName(name, 'name');
      parseSecretValue(checked, value);
    } catch (e) {
      throw fieldError(e, 'value');
    }
    if (!this.d.box) throw new ApiError('unavailable', 'this server keeps no secrets: it has no secret key (WHARF_SECRET_KEY or <home>/secret.key)');
    let box: SecretBox;
    try {
      box = await this.d.box();
    } catch (e) {
      throw new ApiError('unavailable', `the secret key cannot be loaded: ${formatError(e)}`);
    }
    const created = await this.d.admin.putSecret(checked, box.seal(checked, value));
    await this.audit('secret.set', checked);
    return { name: checked, created };
  }

  async listSecrets(): Promise<SecretInfo[]> {
    return this.d.admin.listSecrets();
  }

  async deleteSecret(name: string): Promise<void> {
    if (!(await this.d.admin.deleteSecret(name))) throw new ApiError('not_found', `no secret "${name}"`);
    await this.audit('secret.delete', name);
  }

  async listAudit(q: { after?: number; limit?: number }): Promise<AuditPage> {
    const limit = q.limit ?? AUDIT_LIMIT.default;
    if (!Number.isInteger(limit) || limit < 1 || limit > AUDIT_LIMIT.max) {
      throw invalidRequest([{ path: 'limit', message: `expected a whole number from 1 to ${AUDIT_LIMIT.max}` }]);
    }
    const entries = await this.d.admin.listAudit({ ...(q.after !== undefined ? { after: q.after } : {}), limit: limit + 1 });
    const more = entries.length > limit;
    const page = more ? entries.slice(0, limit) : entries;
    return { entries: page, nextAfter: more ? (page.at(-1)?.id ?? null) : null };
  }
}
