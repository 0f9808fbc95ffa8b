// Token records in memory, for tests: what the store will do with a table.
import type { TokenRecord, TokenRecords } from '../../src/auth/tokens.js';

export class MemoryTokenRecords implements TokenRecords {
  readonly records = new Map<string, TokenRecord>();
  lookups = 0;

  add(record: TokenRecord): TokenRecord {
    this.records.set(record.id, { ...record, scopes: [...record.scopes] });
    return record;
  }

  update(id: string, change: Partial<TokenRecord>): void {
    const r = this.records.get(id);
    if (!r) throw new Error(`no token record ${id}`);
    this.records.set(id, { ...r, ...change });
  }

  async get(id: string): Promise<TokenRecord | undefined> {
    this.lookups++;
    const r = this.records.get(id);
    return r && { ...r, scopes: [...r.scopes] };
  }
}
