// Group commit for a worker's hottest writes (markStarted, finishAttempt): calls made while
// `maxInFlight` batches are in flight wait and go together in the next one, one round trip or
// transaction for all. An idle store loses nothing (a lone call goes at once, on the next turn
// of the event loop); a busy one pays per batch what it paid per call. Each call still resolves
// on its own result only once its write has committed, so callers see the same meaning as
// unbatched.
//
// Calls for the same attempt apply in call order (the second waits for the first's write);
// calls for different attempts made at once have no order between them, as they never had.
//
// A batch that fails is run again item by item, each on its own: whatever made it fail
// (a connection lost, or one item the database refuses) reaches only the calls it concerns.
// (A batch whose connection was lost during its COMMIT may have committed; its items then find
// their attempts ended and get lease_lost, where alone they would have got the error: either
// way the caller cannot tell whether its write landed, and a worker abandons the run.)

interface Pending<I, O> {
  item: I;
  resolve: (o: O) => void;
  reject: (e: unknown) => void;
}

export interface CoalescerOptions<I> {
  /** At most this many items per batch. */
  maxBatch: number;
  /** Items with the same key never share a batch nor are in flight together: the second waits, so they apply in call order. */
  key: (item: I) => string;
  /** Batches sent at once (default 1): a second lets the database work on one while the other travels. */
  maxInFlight?: number;
}

export interface CoalescerStats {
  /** Writes sent, and the calls they carried. */
  batches: number;
  items: number;
  /** Calls run again alone after their batch failed. */
  retriedAlone: number;
}

export class Coalescer<I, O> {
  private queue: Pending<I, O>[] = [];
  private busy = 0;
  /** Keys of the items in flight. */
  private readonly sending = new Set<string>();
  private scheduled = false;
  readonly stats: CoalescerStats = { batches: 0, items: 0, retriedAlone: 0 };

  constructor(
    /** Results in the order of the items; called with one item too. */
    private readonly run: (items: readonly I[]) => Promise<O[]>,
    private readonly opts: CoalescerOptions<I>,
  ) {}

  push(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.busy >= (this.opts.maxInFlight ?? 1) || this.scheduled || this.queue.length === 0) return;
    this.scheduled = true;
    // After the current turn's callbacks: calls made together (a Promise.all) share a batch.
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    if (this.busy >= (this.opts.maxInFlight ?? 1) || this.queue.length === 0) return;
    const batch: Pending<I, O>[] = [];
    const keys: string[] = [];
    const rest: Pending<I, O>[] = [];
    const waiting = new Set<string>();
    for (const p of this.queue) {
      const k = this.opts.key(p.item);
      if (batch.length < this.opts.maxBatch && !this.sending.has(k) && !waiting.has(k)) {
        this.sending.add(k);
        keys.push(k);
        batch.push(p);
      } else {
        waiting.add(k); // and any later call with this key, behind it
        rest.push(p);
      }
    }
    this.queue = rest;
    if (batch.length === 0) return; // all wait for keys in flight
    this.busy++;
    void this.send(batch).finally(() => {
      this.busy--;
      for (const k of keys) this.sending.delete(k);
      this.schedule();
    });
    this.schedule(); // what did not fit, in another batch if one may go now
  }

  private async send(batch: readonly Pending<I, O>[]): Promise<void> {
    this.stats.batches++;
    this.stats.items += batch.length;
    if (batch.length === 1) return this.alone(batch[0] as Pending<I, O>);
    let out: O[];
    try {
      out = await this.run(batch.map((p) => p.item));
      if (out.length !== batch.length) throw new Error(`a batch of ${batch.length} gave ${out.length} results`);
    } catch {
      this.stats.retriedAlone += batch.length;
      await Promise.all(batch.map((p) => this.alone(p)));
      return;
    }
    batch.forEach((p, i) => p.resolve(out[i] as O));
  }

  private async alone(p: Pending<I, O>): Promise<void> {
    try {
      const [o] = await this.run([p.item]);
      if (o === undefined) throw new Error('no result');
      p.resolve(o);
    } catch (e) {
      p.reject(e);
    }
  }
}
