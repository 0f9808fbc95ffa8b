// Tokens, secrets and the audit log on SQLite: plain statements (none is on a hot path), each
// one atomic on its own.
import type Database from 'better-sqlite3';
import type { AdminStore, AuditAction, AuditEntry, NewAuditEntry, StoredSecret, StoredToken } from '../admin.js';

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

interface AuditRow { id: number; time: number; actor: string; action: AuditAction; target: string }

export class SqliteAdmin implements AdminStore {
  constructor(private readonly raw: Database.Database, private readonly now: () => number) {}

  async insertToken(t: StoredToken): Promise<void> {
    this.raw.prepare('INSERT INTO tokens (id, name, scopes, hash, created_at, expires_at, revoked_at, last_used_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(t.id, t.name, JSON.stringify(t.scopes), t.hash, t.createdAt, t.expiresAt, t.revokedAt, t.lastUsedAt);
  }

  async getToken(id: string): Promise<StoredToken | undefined> {
    const r = this.raw.prepare('SELECT * FROM tokens WHERE id = ?').get(id) as TokenRow | undefined;
    return r && token(r);
  }

  async listTokens(): Promise<StoredToken[]> {
    return (this.raw.prepare('SELECT * FROM tokens ORDER BY created_at DESC, id').all() as TokenRow[]).map(token);
  }

  async revokeToken(id: string): Promise<boolean> {
    return this.raw.prepare('UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(this.now(), id).changes > 0;
  }

  async touchToken(id: string, at: number): Promise<void> {
    this.raw.prepare('UPDATE tokens SET last_used_at = ? WHERE id = ?').run(at, id);
  }

  async hasAdminToken(now: number): Promise<boolean> {
    const rows = this.raw.prepare('SELECT scopes FROM tokens WHERE revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)').all(now) as { scopes: string }[];
    return rows.some((r) => (JSON.parse(r.scopes) as string[]).includes('admin'));
  }

  async putSecret(name: string, sealed: string): Promise<boolean> {
    const now = this.now();
    const put = this.raw.transaction(() => {
      const existed = this.raw.prepare('SELECT 1 FROM secrets WHERE name = ?').get(name) !== undefined;
      this.raw.prepare(`INSERT INTO secrets (name, sealed, created_at, updated_at) VALUES (?, ?, ?, ?)
        ON CONFLICT (name) DO UPDATE SET sealed = excluded.sealed, updated_at = excluded.updated_at`).run(name, sealed, now, now);
      return !existed;
    });
    return put.immediate();
  }

  async getSecrets(names: readonly string[]): Promise<StoredSecret[]> {
    if (names.length === 0) return [];
    const rows = this.raw.prepare(`SELECT name, sealed, created_at, updated_at FROM secrets WHERE name IN (${names.map(() => '?').join(', ')})`)
      .all(...names) as { name: string; sealed: string; created_at: number; updated_at: number }[];
    return rows.map((r) => ({ name: r.name, sealed: r.sealed, createdAt: r.created_at, updatedAt: r.updated_at }));
  }

  async listSecrets(): Promise<Omit<StoredSecret, 'sealed'>[]> {
    const rows = this.raw.prepare('SELECT name, created_at, updated_at FROM secrets ORDER BY name').all() as { name: string; created_at: number; updated_at: number }[];
    return rows.map((r) => ({ name: r.name, createdAt: r.created_at, updatedAt: r.updated_at }));
  }

  async deleteSecret(name: string): Promise<boolean> {
    return this.raw.prepare('DELETE FROM secrets WHERE name = ?').run(name).changes > 0;
  }

  async appendAudit(e: NewAuditEntry): Promise<AuditEntry> {
    const time = this.now();
    const r = this.raw.prepare('INSERT INTO audit (time, actor, action, target) VALUES (?, ?, ?, ?) RETURNING id').get(time, e.actor, e.action, e.target) as { id: number };
    return { id: r.id, time, ...e };
  }

  async listAudit(q: { after?: number; limit: number }): Promise<AuditEntry[]> {
    return this.raw.prepare('SELECT id, time, actor, action, target FROM audit WHERE id > ? ORDER BY id LIMIT ?').all(q.after ?? 0, q.limit) as AuditRow[];
  }
}
