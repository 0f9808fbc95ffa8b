// Changes across processes: a store hears another's writes through LISTEN/NOTIFY (never its
// own twice), and its LISTEN connection and pool come back after PostgreSQL restarts.
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import pg from 'pg';
import { describe, it } from 'node:test';
import { openPostgresStore, type PostgresStore } from '../../../src/store/postgres/index.js';
import type { StoreChange } from '../../../src/store/types.js';
import { freshDatabase, startPostgres } from '../../infra/postgres.js';
import { ok, spec } from '../helpers.js';

/** Records a store's changes; `next` waits for the first (after now) that matches. */
function recorder(store: PostgresStore): { all: StoreChange[]; next(match: (c: StoreChange) => boolean): Promise<StoreChange> } {
  const all: StoreChange[] = [];
  const waiting = new Set<{ match: (c: StoreChange) => boolean; resolve: (c: StoreChange) => void }>();
  store.onChange((c) => {
    all.push(c);
    for (const w of waiting) {
      if (!w.match(c)) continue;
      waiting.delete(w);
      w.resolve(c);
    }
  });
  return { all, next: (match) => new Promise((resolve) => waiting.add({ match, resolve })) };
}

const queued = (c: StoreChange): boolean => c.type === 'attempts_queued';

describe('postgres LISTEN/NOTIFY', { timeout: 60_000 }, () => {
  it('another store hears createJob, logs and stop requests; a store never hears its own writes twice', async () => {
    const url = await freshDatabase();
    const a = await openPostgresStore({ url });
    const b = await openPostgresStore({ url });
    try {
      const ra = recorder(a);
      const rb = recorder(b);
      const wake = rb.next(queued);
      const events = rb.next((c) => c.type === 'events');
      const job = await a.createJob(spec({ t: {} }), { defaultBackend: 'local' });
      assert.deepEqual(await wake, { type: 'attempts_queued' });
      await events;

      const [claim] = await b.claimAttempts({ workerId: 'wb', backends: ['local'], leaseMs: 60_000, limit: 1 });
      assert.ok(claim);
      const logs = ra.next((c) => c.type === 'logs');
      ok(await b.appendLogs(claim, [{ stream: 'stdout', time: 1, text: 'hi\n', bytes: 3 }]));
      assert.deepEqual(await logs, { type: 'logs', jobId: job.id, task: 't' });

      const stop = rb.next((c) => c.type === 'stop_requested');
      ok(await a.cancelJob(job.id, 'asked by alice'));
      assert.deepEqual(await stop, { type: 'stop_requested', attemptId: claim.attemptId, reason: 'asked by alice' });

      // b's own createJob: announced once in-process. A later write by a reaches b after b's
      // own notification would have (one connection delivers in commit order), so by then a
      // duplicate would show.
      const before = rb.all.filter(queued).length;
      await b.createJob(spec({ u: {} }), { defaultBackend: 'local' });
      assert.equal(rb.all.filter(queued).length, before + 1);
      const fromA = rb.next(queued);
      await a.createJob(spec({ v: {} }), { defaultBackend: 'local' });
      await fromA;
      assert.equal(rb.all.filter(queued).length, before + 2, 'b heard its own createJob again');
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('after PostgreSQL restarts, the listener reconnects and nudges its waiters, the pool recovers, and ping says when it is away', async () => {
    const cluster = await startPostgres();
    let a: PostgresStore | undefined;
    let b: PostgresStore | undefined;
    try {
      a = await openPostgresStore({ url: cluster.url });
      b = await openPostgresStore({ url: cluster.url });
      const rb = recorder(b);
      await a.createJob(spec({ t: {} }), { defaultBackend: 'local' });
      // The test cluster commits asynchronously (synchronous_commit=off): a crash could lose
      // the last commits, so make them durable before crashing it.
      const admin = new pg.Client({ connectionString: cluster.url });
      await admin.connect();
      await admin.query('CHECKPOINT');
      await admin.end();

      await cluster.kill();
      const down = await a.ping().then(() => undefined, (e: unknown) => e);
      assert.ok(down instanceof Error, 'ping answered with PostgreSQL down');
      for (const text of [String(down), JSON.stringify(down), inspect(down, { depth: null, showHidden: true })]) {
        assert.ok(!text.includes(cluster.password), 'the password leaked into an error');
      }

      // Reconnecting, the listener nudges waiters: whatever was notified meanwhile was lost.
      const nudged = rb.next(queued);
      await cluster.restart();
      await nudged;
      assert.ok(b.listenerReconnects() >= 1);
      await a.ping();
      await b.ping();

      // Both the pool and the new LISTEN connection work.
      const heard = rb.next(queued);
      const job = await a.createJob(spec({ t: {} }), { defaultBackend: 'local' });
      await heard;
      assert.equal((await b.getJob(job.id))?.state, 'queued');
      assert.equal((await b.listJobs({ limit: 10 })).jobs.length, 2, 'the data survived the restart');
    } finally {
      await a?.close();
      await b?.close();
      await cluster.stop();
    }
  });
});
