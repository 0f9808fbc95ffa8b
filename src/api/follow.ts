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
      if (!relevant(c) || this.dirty) return;
      this.dirty = true;
      // Wake after this turn of the event loop, so a burst of commits costs one read, not one each.
      setImmediate(() => this.wake?.());
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
  const s = await store.getStates(jobId, task);
  if (!s) return 'deleted';
  if (task === undefined) return isJobEnded(s.job) ? s.job : undefined;
  if (s.task === undefined) return 'deleted';
  return isTaskTerminal(s.task) ? s.task : undefined;
}

/**
 * Reads `read(after)` in id order until `ended()` names an end state and a read made after it
 * came back empty (writers store everything before they end what they write for). Without
 * `ended`, it follows forever. Returns undefined when aborted.
 */
async function* followStore<T extends { id: number }>(
  deps: FollowDeps, relevant: (c: StoreChange) => boolean, after: number, signal: AbortSignal | undefined,
  read: (after: number) => Promise<T[]>, ended: (() => Promise<string | undefined>) | undefined,
): AsyncGenerator<T, FollowEnd | undefined> {
  // Made on the first next(), so a generator that is never iterated holds no listener.
  const wake = new Wakeup(deps.store, relevant, signal);
  let end: string | undefined;
  try {
    for (;;) {
      if (signal?.aborted) return undefined;
      wake.arm();
      const items = await read(after);
      for (const item of items) {
        after = item.id;
        yield item;
      }
      if (items.length === PAGE) continue;
      if (end !== undefined) {
        if (items.length === 0) return { state: end };
        continue;
      }
      if (ended) {
        end = await ended();
        if (end !== undefined) continue;
      }
      await wake.wait(deps.pollMs);
    }
  } finally {
    wake.dispose();
  }
}

/** Log entries of a job (or one task) after `after`, live, until it ended. */
export function followLogs(
  deps: FollowDeps, jobId: string, task: string | undefined, opts: { after?: number; signal?: AbortSignal },
): AsyncGenerator<LogEntry, FollowEnd | undefined> {
  const { store } = deps;
  const relevant = (c: StoreChange): boolean =>
    c.type === 'events' || (c.type === 'logs' && c.jobId === jobId && (task === undefined || c.task === task));
  const read = (after: number): Promise<LogEntry[]> =>
    store.readLogs(task === undefined ? { jobId, after, limit: PAGE } : { jobId, task, after, limit: PAGE });
  return followStore(deps, relevant, opts.after ?? 0, opts.signal, read, () => endedState(store, jobId, task));
}

/** State-change events after `after`, live: server-wide forever, or one job's until it ended. */
export function followEvents(
  deps: FollowDeps, opts: { after?: number; jobId?: string; signal?: AbortSignal },
): AsyncGenerator<WharfEvent, FollowEnd | undefined> {
  const { store } = deps;
  const { jobId } = opts;
  const read = (after: number): Promise<WharfEvent[]> => store.readEvents(after, PAGE, jobId);
  const ended = jobId === undefined ? undefined : () => endedState(store, jobId, undefined);
  return followStore(deps, (c) => c.type === 'events', opts.after ?? 0, opts.signal, read, ended);
}
