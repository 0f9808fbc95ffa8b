// Following logs and events: async generators that read the store in id order, sleep until the
// store nudges them (or a slow safety timer fires, for writers in other processes), and end once
// what they follow has ended and everything stored was yielded.
import { isJobEnded, isTaskTerminal } from '../core/states.js';
import type { FollowEnd } from '../client/types.js';
import type { LogEntry, WharfEvent } from '../spec/api.js';
import type { Store, StoreChange } from '../store/types.js';

export interface FollowDeps {
  store: Store;
  /** Re-read at least this often even without a nudge (other processes do not nudge us). */
  pollMs: number;
}

const PAGE = 500;

/**
 * One store listener for one follower. `arm()` before each read, `wait()` after it: a nudge that
 * lands while the read runs makes the wait return at once, so no change is slept through.
 */
class Wakeup {
  private dirty = false;
  private wake: (() => void) | undefined;
  private readonly off: () => void;
  private readonly onAbort = (): void => this.wake?.();

  constructor(store: Store, relevant: (c: StoreChange) => boolean, private readonly signal: AbortSignal | undefined) {
    this.off = store.onChange((c) => {
      if (!relevant(c)) return;
      this.dirty = true;
      this.wake?.();
    });
    signal?.addEventListener('abort', this.onAbort);
  }

  arm(): void {
    this.dirty = false;
  }

  wait(ms: number): Promise<void> {
    if (this.dirty || this.signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }

  dispose(): void {
    this.wake?.();
    this.off();
    this.signal?.removeEventListener('abort', this.onAbort);
  }
}

/** The state a job (or one of its tasks) ended in, or undefined while it runs. */
async function endedState(store: Store, jobId: string, task: string | undefined): Promise<string | undefined> {
  const job = await store.getJob(jobId);
  if (!job) return 'deleted';
  if (task === undefined) return isJobEnded(job.state) ? job.state : undefined;
  const t = job.tasks.find((x) => x.name === task);
  if (!t) return 'deleted';
  return isTaskTerminal(t.state) ? t.state : undefined;
}

/**
 * Log entries of a job (or one task) after `after`, live. Returns the end state once the job or
 * task is terminal and a read made after seeing that returned nothing; undefined when aborted.
 */
export async function* followLogs(
  deps: FollowDeps, jobId: string, task: string | undefined, opts: { after?: number; signal?: AbortSignal },
): AsyncGenerator<LogEntry, FollowEnd | undefined> {
  const { store, pollMs } = deps;
  const wake = new Wakeup(
    store,
    (c) => c.type === 'events' || (c.type === 'logs' && c.jobId === jobId && (task === undefined || c.task === task)),
    opts.signal,
  );
  let after = opts.after ?? 0;
  let ended: string | undefined;
  try {
    for (;;) {
      if (opts.signal?.aborted) return undefined;
      wake.arm();
      const q = task === undefined ? { jobId, after, limit: PAGE } : { jobId, task, after, limit: PAGE };
      const entries = await store.readLogs(q);
      for (const e of entries) {
        after = e.id;
        yield e;
      }
      if (entries.length === PAGE) continue;
      if (ended !== undefined) {
        // Writers append before they finish an attempt, so once a read after the end comes back
        // empty there is nothing left to send.
        if (entries.length === 0) return { state: ended };
        continue;
      }
      ended = await endedState(store, jobId, task);
      if (ended !== undefined) continue;
      await wake.wait(pollMs);
    }
  } finally {
    wake.dispose();
  }
}

/**
 * State-change events after `after`, live. Server-wide it never ends; following one job it
 * returns the job's end state once the job ended and a later read came back empty.
 */
export async function* followEvents(
  deps: FollowDeps, opts: { after?: number; jobId?: string; signal?: AbortSignal },
): AsyncGenerator<WharfEvent, FollowEnd | undefined> {
  const { store, pollMs } = deps;
  const { jobId } = opts;
  const wake = new Wakeup(store, (c) => c.type === 'events', opts.signal);
  let after = opts.after ?? 0;
  let ended: string | undefined;
  try {
    for (;;) {
      if (opts.signal?.aborted) return undefined;
      wake.arm();
      const events = await store.readEvents(after, PAGE, jobId);
      for (const e of events) {
        after = e.id;
        yield e;
      }
      if (events.length === PAGE) continue;
      if (jobId !== undefined) {
        if (ended !== undefined) {
          if (events.length === 0) return { state: ended };
          continue;
        }
        ended = await endedState(store, jobId, undefined);
        if (ended !== undefined) continue;
      }
      await wake.wait(pollMs);
    }
  } finally {
    wake.dispose();
  }
}
