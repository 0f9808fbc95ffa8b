// The worker registry on PostgreSQL: each operation one statement. Rows as SQLite's
// (../sqlite/workers.ts), so results are identical.
import { sql, type Kysely } from 'kysely';
import { workerRecord, type WorkerRow } from '../sqlite/workers.js';
import type { WorkerInfo, WorkerRecord, WorkerRegistry } from '../workers.js';
import type { Tables } from './tables.js';

export class PgWorkers implements WorkerRegistry {
  constructor(private readonly k: Kysely<Tables>, readonly now: () => number) {}

  async register(w: WorkerInfo): Promise<void> {
    await sql`INSERT INTO workers (id, host, pid, backends, labels, capacity, running, started_at, last_seen_at)
      VALUES (${w.id}, ${w.host}, ${w.pid}, ${JSON.stringify(w.backends)}, ${JSON.stringify(w.labels)}, ${w.capacity}, 0, ${w.startedAt}, ${this.now()})
      ON CONFLICT (id) DO UPDATE SET host = excluded.host, pid = excluded.pid, backends = excluded.backends,
        labels = excluded.labels, capacity = excluded.capacity, started_at = excluded.started_at, last_seen_at = excluded.last_seen_at`.execute(this.k);
  }

  async heartbeat(id: string, running: number): Promise<boolean> {
    const r = await sql`UPDATE workers SET running = ${running}, last_seen_at = ${this.now()} WHERE id = ${id}`.execute(this.k);
    return (r.numAffectedRows ?? 0n) > 0n;
  }

  async unregister(id: string): Promise<boolean> {
    const r = await sql`DELETE FROM workers WHERE id = ${id}`.execute(this.k);
    return (r.numAffectedRows ?? 0n) > 0n;
  }

  async list(): Promise<WorkerRecord[]> {
    return (await sql<WorkerRow>`SELECT * FROM workers ORDER BY id COLLATE "C"`.execute(this.k)).rows.map(workerRecord);
  }
}
