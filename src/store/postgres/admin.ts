// Tokens, secrets and the audit log on PostgreSQL: each operation one statement, atomic on its
// own (none is on a hot path). Rows as SQLite's (../sqlite/admin.ts), so results are identical.
import { sql, type Kysely } from 'kysely';
import type { AdminStore, AuditAction, AuditEntry, NewAuditEntry, StoredSecret, StoredToken } from '../admin.js';
import { AUDIT_LOCK, LOCK_CLASS } from './db.js';
import type { Tables } from './tables.js';

interface TokenRow {
  id: string; name: string; scopes: string; hash: string; created_at: number;
  expires_at: number | null; revoked_at: number | null; last_used_at: number | null;
}

function token(r: TokenRow): StoredToken {
  return {
    id: r.id, name: r.name, scopes: JSON.parse(r.scopes) as string[], hash: r.hash, createdAt: r.created_at,
    expiresAt: r.expires_at, revokedAt: r.revoked_at, lastUsedAt: r.last_used_at,
  };
}

interface SecretRow { name: string; sealed: string; created_at: number; updated_at: number }

export class PgAdmin implements AdminStore {
  constructor(private readonly k: Kysely<Tables>, private readonly now: () => number) {}

  async insertToken(t: StoredToken): Promise<void> {
    await sql`INSERT INTO tokens (id, name, scopes, hash, created_at, expires_at, revoked_at, last_used_at)
      VALUES (${t.id}, ${t.name}, ${JSON.stringify(t.scopes)}, ${t.hash}, ${t.createdAt}, ${t.expiresAt}, ${t.revokedAt}, ${t.lastUsedAt})`.execute(this.k);
  }

  async getToken(id: string): Promise<StoredToken | undefined> {
    const r = (await sql<TokenRow>`SELECT * FROM tokens WHERE id = ${id}`.execute(this.k)).rows[0];
    return r && token(r);
  }

  async listTokens(): Promise<StoredToken[]> {
    return (await sql<TokenRow>`SELECT * FROM tokens ORDER BY created_at DESC, id`.execute(this.k)).rows.map(token);
  }

  async revokeToken(id: string): Promise<boolean> {
    const r = await sql`UPDATE tokens SET revoked_at = ${this.now()} WHERE id = ${id} AND revoked_at IS NULL`.execute(this.k);
    return (r.numAffectedRows ?? 0n) > 0n;
  }

  async touchToken(id: string, at: number): Promise<void> {
    await sql`UPDATE tokens SET last_used_at = ${at} WHERE id = ${id}`.execute(this.k);
  }

  async hasAdminToken(now: number): Promise<boolean> {
    const rows = (await sql<{ scopes: string }>`SELECT scopes FROM tokens
      WHERE revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ${now})`.execute(this.k)).rows;
    return rows.some((r) => (JSON.parse(r.scopes) as string[]).includes('admin'));
  }

  async putSecret(name: string, sealed: string): Promise<boolean> {
    const now = this.now();
    // xmax is 0 on a row this statement inserted, set on one it updated.
    const r = await sql<{ created: boolean }>`INSERT INTO secrets (name, sealed, created_at, updated_at) VALUES (${name}, ${sealed}, ${now}, ${now})
      ON CONFLICT (name) DO UPDATE SET sealed = excluded.sealed, updated_at = excluded.updated_at
      RETURNING (xmax = 0) AS created`.execute(this.k);
    return r.rows[0]?.created === true;
  }

  async getSecrets(names: readonly string[]): Promise<StoredSecret[]> {
    if (names.length === 0) return [];
    const rows = (await sql<SecretRow>`SELECT name, sealed, created_at, updated_at FROM secrets WHERE name = any(${names}::text[])`.execute(this.k)).rows;
    return rows.map((r) => ({ name: r.name, sealed: r.sealed, createdAt: r.created_at, updatedAt: r.updated_at }));
  }

  async listSecrets(): Promise<Omit<StoredSecret, 'sealed'>[]> {
    const rows = (await sql<Omit<SecretRow, 'sealed'>>`SELECT name, created_at, updated_at FROM secrets ORDER BY name`.execute(this.k)).rows;
    return rows.map((r) => ({ name: r.name, createdAt: r.created_at, updatedAt: r.updated_at }));
  }

  async deleteSecret(name: string): Promise<boolean> {
    const r = await sql`DELETE FROM secrets WHERE name = ${name}`.execute(this.k);
    return (r.numAffectedRows ?? 0n) > 0n;
  }

  /**
   * Entries are read by id (listAudit `after`), so their ids must commit in order: the insert
   * takes a lock (held until its own commit) before drawing its id, as events do (db.ts).
   */
  async appendAudit(e: NewAuditEntry): Promise<AuditEntry> {
    const time = this.now();
    const r = await sql<{ id: number }>`WITH first AS MATERIALIZED (SELECT pg_advisory_xact_lock(${LOCK_CLASS}, ${AUDIT_LOCK}))
      INSERT INTO audit (time, actor, action, target) SELECT ${time}, ${e.actor}, ${e.action}, ${e.target} FROM first
      RETURNING id`.execute(this.k);
    const row = r.rows[0];
    if (!row) throw new Error('the audit entry was not written');
    return { id: row.id, time, ...e };
  }

  async listAudit(q: { after?: number; limit: number }): Promise<AuditEntry[]> {
    return (await sql<{ id: number; time: number; actor: string; action: AuditAction; target: string }>`SELECT id, time, actor, action, target
      FROM audit WHERE id > ${q.after ?? 0} ORDER BY id LIMIT ${q.limit}`.execute(this.k)).rows;
  }
}
