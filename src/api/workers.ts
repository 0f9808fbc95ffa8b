// What the service says about workers: the registry as the API shows it (with liveness), and
// why a queued task waits when no live worker could take it. Computed at read time, never stored.
import type { JobView, TaskView } from '../spec/api.js';
import type { BackendName } from '../spec/schema.js';
import type { WorkerView } from '../spec/workers-api.js';
import { isLive, type WorkerRecord, type WorkerRegistry } from '../store/workers.js';

export function workerViews(records: readonly WorkerRecord[], now: number, heartbeatMs: number): WorkerView[] {
  return records.map((w) => ({ ...w, live: isLive(w, now, heartbeatMs) }));
}

/** The job with `waiting` set on each task whose queued attempt could run now but no live worker serves its backend. */
export async function withWaiting(job: JobView, registry: WorkerRegistry, heartbeatMs: number): Promise<JobView> {
  if (job.cancelRequested) return job;
  const now = registry.now();
  const stuck = job.tasks.filter((t) => claimable(t, now));
  if (stuck.length === 0) return job; // the common case costs no read
  const live = workerViews(await registry.list(), now, heartbeatMs).filter((w) => w.live);
  const served = new Set<BackendName>(live.flatMap((w) => w.backends));
  const others = live.length === 0 ? 'no live workers' : `live workers: ${live.map((w) => `${w.id} ${w.backends.join(', ')}`).join('; ')}`;
  const tasks = job.tasks.map((t) => (stuck.includes(t) && !served.has(t.backend)
    ? { ...t, waiting: `no live worker runs the ${t.backend} backend (${others})` }
    : t));
  return { ...job, tasks };
}

/** Its newest attempt is queued and past any backoff: a worker of its backend would take it now. */
function claimable(t: TaskView, now: number): boolean {
  const a = t.attempts.at(-1);
  return a !== undefined && a.state === 'queued' && a.notBefore <= now;
}
