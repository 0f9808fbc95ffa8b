// The registry of workers: who runs where, for which backends, and when each was last heard
// from. Workers register at start, beat every WORKER_HEARTBEAT_MS, and unregister on shutdown; a
// worker that died without unregistering simply stops being live. Dialect-neutral, like the Store.
import type { BackendName } from '../spec/schema.js';

/** What a worker says about itself when it starts. */
export interface WorkerInfo {
  id: string;
  host: string;
  pid: number;
  backends: BackendName[];
  labels: Record<string, string>;
  /** Attempts it runs at once at most. */
  capacity: number;
  startedAt: number;
}

export interface WorkerRecord extends WorkerInfo {
  /** Attempts it ran at its last heartbeat. */
  running: number;
  lastSeenAt: number;
}

export interface WorkerRegistry {
  /** Creates or replaces the worker's row; it counts as seen now (the store's clock). */
  register(w: WorkerInfo): Promise<void>;
  /** Records that the worker is alive; false when it is not registered (register it again). */
  heartbeat(id: string, running: number): Promise<boolean>;
  /** False when it was not registered. */
  unregister(id: string): Promise<boolean>;
  /** Every registered worker, live or not, by id. */
  list(): Promise<WorkerRecord[]>;
  /** The store's clock, which stamps lastSeenAt (so liveness is judged on the same clock). */
  now(): number;
}

/** How often a worker tells the registry it is alive, unless told otherwise (`--heartbeat`). */
export const WORKER_HEARTBEAT_MS = 5_000;
/** Heartbeats a worker may miss before it counts as gone. */
export const LIVENESS_BEATS = 3;

/** The one liveness rule: heard from within LIVENESS_BEATS heartbeat intervals. */
export function isLive(w: Pick<WorkerRecord, 'lastSeenAt'>, now: number, heartbeatMs: number = WORKER_HEARTBEAT_MS): boolean {
  return w.lastSeenAt >= now - LIVENESS_BEATS * heartbeatMs;
}
