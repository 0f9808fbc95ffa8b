// What an installation keeps besides jobs: API tokens (hashes only), secrets (sealed), and the
// audit log (append-only). Dialect-neutral, like the Store.

/** A token as stored: never the token itself, only the sha256 of its secret part. */
export interface StoredToken {
  id: string;
  name: string;
  scopes: string[];
  hash: string;
  createdAt: number;
  expiresAt: number | null;
  revokedAt: number | null;
  lastUsedAt: number | null;
}

/** A secret as stored: `sealed` is SecretBox output; nothing here can read it. */
export interface StoredSecret {
  name: string;
  sealed: string;
  createdAt: number;
  updatedAt: number;
}

import type { AuditAction } from '../spec/admin-api.js';

export type { AuditAction };

export interface NewAuditEntry {
  /** Who: "token:<id> (<name>)", "oidc:<subject>", "local:<user>", "anonymous". */
  actor: string;
  action: AuditAction;
  /** What: a job id, a token id, a secret name. */
  target: string;
}

export interface AuditEntry extends NewAuditEntry {
  id: number;
  time: number;
}

export interface AdminStore {
  insertToken(t: StoredToken): Promise<void>;
  getToken(id: string): Promise<StoredToken | undefined>;
  /** Newest first. */
  listTokens(): Promise<StoredToken[]>;
  /** False when there is no such token or it was revoked already. */
  revokeToken(id: string): Promise<boolean>;
  /** Records a use (the caller throttles these writes). */
  touchToken(id: string, at: number): Promise<void>;
  /** Whether an unrevoked, unexpired token with the admin scope exists. */
  hasAdminToken(now: number): Promise<boolean>;

  /** Creates or replaces; true when it was created. */
  putSecret(name: string, sealed: string): Promise<boolean>;
  /** Those of `names` that exist. */
  getSecrets(names: readonly string[]): Promise<StoredSecret[]>;
  /** Names and times only, by name. */
  listSecrets(): Promise<Omit<StoredSecret, 'sealed'>[]>;
  deleteSecret(name: string): Promise<boolean>;

  appendAudit(e: NewAuditEntry): Promise<AuditEntry>;
  /** Oldest first, ids greater than `after`. */
  listAudit(q: { after?: number; limit: number }): Promise<AuditEntry[]>;
}
