// Job snapshots kept in memory between events, so an event of a large job does not read and
// parse every task row again. An entry is used only while the job's `rev` in the database is
// the one it was cached at: any write (by this process or another) bumps it, so correctness
// never depends on the cache, only speed does.
import type { JobSnapshot } from '../../core/job-machine.js';
import type { BackendName } from '../../spec/schema.js';

export interface LoadedJob {
  id: string;
  /** The job's `rev` this snapshot matches. */
  rev: number;
  snapshot: JobSnapshot;
  /** Where each task's attempts run. (Plans are read at claim time: they can be large.) */
  backends: ReadonlyMap<string, BackendName>;
}

export interface JobCacheStats {
  /** Snapshots read from the task rows, i.e. cache misses. */
  loads: number;
  /** Task rows those loads read. */
  taskRows: number;
  hits: number;
  jobs: number;
}

/**
 * Least recently used first (a Map keeps insertion order). Bounded by jobs and by tasks, since
 * jobs vary a lot in size (a task takes about 250 bytes); the newest entry always stays, however
 * large.
 */
export class JobCache {
  private readonly entries = new Map<string, LoadedJob>();
  private tasks = 0;
  readonly stats: JobCacheStats = { loads: 0, taskRows: 0, hits: 0, jobs: 0 };

  constructor(private readonly maxJobs = 256, private readonly maxTasks = 100_000) {}

  /** The cached snapshot if it is still current (`rev` as just read from the job's row). */
  get(id: string, rev: number): LoadedJob | undefined {
    const e = this.entries.get(id);
    if (e === undefined || e.rev !== rev) return undefined;
    this.entries.delete(id);
    this.entries.set(id, e);
    this.stats.hits++;
    return e;
  }

  /** Only committed snapshots belong here (see Db.write). */
  set(job: LoadedJob): void {
    this.delete(job.id);
    this.entries.set(job.id, job);
    this.tasks += job.backends.size;
    for (const id of this.entries.keys()) {
      if (this.entries.size <= 1 || (this.entries.size <= this.maxJobs && this.tasks <= this.maxTasks)) break;
      this.delete(id);
    }
    this.stats.jobs = this.entries.size;
  }

  delete(id: string): void {
    const e = this.entries.get(id);
    if (e === undefined) return;
    this.entries.delete(id);
    this.tasks -= e.backends.size;
    this.stats.jobs = this.entries.size;
  }
}
