// The worker registry on SQLite: plain statements, each atomic on its own (a heartbeat every few
// seconds per worker is no hot path).
import type Database from 'better-sqlite3';
import type { BackendName } from '../../spec/schema.js';
import type { WorkerInfo, WorkerRecord, WorkerRegistry } from '../workers.js';

export interface WorkerRow {
  id: string; host: string; pid: number; backends: string; labels: string; capacity: number;
  running: number; started_at: number; last_seen_at: number;
}

/** A row as a record; shared with the PostgreSQL registry, whose rows are the same. */
export function workerRecord(r: WorkerRow): WorkerRecord {
  return {
    id: r.id, host: r.host, pid: r.pid, backends: JSON.parse(r.backends) as BackendName[],
    labels: JSON.parse(r.labels) as Record<string, string>, capacity: r.capacity, running: r.running,
    startedAt: r.started_at, lastSeenAt: r.last_seen_at,
  };
}

export class SqliteWorkers implements WorkerRegistry {
  constructor(private readonly raw: Database.Database, readonly now: () => number) {}

  async register(w: WorkerInfo): Promise<void> {
    this.raw.prepare(`INSERT INTO workers (id, host, pid, backends, labels, capacity, running, started_at, last_seen_at)
      VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?)
      ON CONFLICT (id) DO UPDATE SET host = excluded.host, pid = excluded.pid, backends = excluded.backends,
        labels = excluded.labels, capacity = excluded.capacity, started_at = excluded.started_at, last_seen_at = excluded.last_seen_at`)
      .run(w.id, w.host, w.pid, JSON.stringify(w.backends), JSON.stringify(w.labels), w.capacity, w.startedAt, this.now());
  }

  async heartbeat(id: string, running: number): Promise<boolean> {
    return this.raw.prepare('UPDATE workers SET running = ?, last_seen_at = ? WHERE id = ?').run(running, this.now(), id).changes > 0;
  }

  async unregister(id: string): Promise<boolean> {
    return this.raw.prepare('DELETE FROM workers WHERE id = ?').run(id).changes > 0;
  }

  async list(): Promise<WorkerRecord[]> {
    return (this.raw.prepare('SELECT * FROM workers ORDER BY id').all() as WorkerRow[]).map(workerRecord);
  }
}
