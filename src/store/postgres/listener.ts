// Changes made by other processes, through LISTEN on one dedicated connection. Write
// transactions NOTIFY (db.ts), so a notification arrives only once its transaction committed.
// When the connection drops, it reconnects with a growing delay, and then nudges every waiter
// (attempts_queued, events): whatever was notified meanwhile was lost, and readers re-read.
import pg from 'pg';
import type { StoreChange } from '../types.js';
import { CHANNEL } from './db.js';

const MIN_DELAY_MS = 50;
const MAX_DELAY_MS = 2_000;

export class ChangeListener {
  private client: pg.Client | undefined;
  private closed = false;
  private retry: NodeJS.Timeout | undefined;
  private delay = MIN_DELAY_MS;
  /** How many times the connection was made again (tests, diagnostics). */
  reconnects = 0;

  constructor(
    private readonly config: pg.ClientConfig,
    /** Notifications carrying this origin are our own store's: it told its listeners already. */
    private readonly origin: string,
    private readonly emit: (changes: readonly StoreChange[]) => void,
  ) {}

  /** The first connection; throws if it cannot be made. */
  async start(): Promise<void> {
    await this.connect();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    const c = this.client;
    this.client = undefined;
    await c?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new pg.Client(this.config);
    // Before connect: an error event without a handler would crash the process.
    let dropped = false;
    const lost = (): void => {
      if (dropped) return;
      dropped = true;
      if (this.client === client) this.client = undefined;
      client.removeAllListeners('notification');
      void client.end().catch(() => undefined);
      this.schedule();
    };
    client.on('error', lost);
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
    } catch (e) {
      dropped = true;
      client.removeListener('error', lost);
      client.on('error', () => undefined);
      await client.end().catch(() => undefined);
      throw e;
    }
    client.on('end', lost);
    client.on('notification', (n) => {
      if (n.channel === CHANNEL && n.payload !== undefined) this.receive(n.payload);
    });
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.delay = MIN_DELAY_MS;
  }

  private schedule(): void {
    if (this.closed || this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.connect().then(() => {
        if (this.closed) return;
        this.reconnects++;
        this.emit([{ type: 'attempts_queued' }, { type: 'events' }]);
      }, () => {
        this.delay = Math.min(MAX_DELAY_MS, this.delay * 2);
        this.schedule();
      });
    }, this.delay);
  }

  private receive(payload: string): void {
    let msg: unknown;
    try {
      msg = JSON.parse(payload);
    } catch {
      return; // not ours
    }
    if (typeof msg !== 'object' || msg === null) return;
    const { o, c } = msg as { o?: unknown; c?: unknown };
    if (o === this.origin || !Array.isArray(c)) return;
    this.emit(c.filter(isChange));
  }
}

function isChange(c: unknown): c is StoreChange {
  if (typeof c !== 'object' || c === null) return false;
  const x = c as Record<string, unknown>;
  switch (x.type) {
    case 'attempts_queued':
    case 'events':
      return true;
    case 'logs':
      return typeof x.jobId === 'string' && typeof x.task === 'string';
    case 'stop_requested':
      return typeof x.attemptId === 'string' && typeof x.reason === 'string';
    default:
      return false;
  }
}
