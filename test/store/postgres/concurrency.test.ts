// Several PostgreSQL stores (separate pools, as separate processes would have) writing at once:
// claims never overlap, writers never deadlock, and readers paging by id miss nothing.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openPostgresStore, type PostgresStore } from '../../../src/store/postgres/index.js';
import type { AttemptOutcome } from '../../../src/core/states.js';
import type { Claim } from '../../../src/store/types.js';
import { freshDatabase } from '../../infra/postgres.js';
import { ok, spec } from '../helpers.js';

async function twoStores(): Promise<[PostgresStore, PostgresStore]> {
  const url = await freshDatabase();
  const a = await openPostgresStore({ url });
  return [a, await openPostgresStore({ url })];
}

describe('postgres concurrency', () => {
  it('claims, finishes and cancels from two stores at once: no attempt twice, no deadlock, every job ends', async () => {
    const [a, b] = await twoStores();
    try {
      const jobs: string[] = [];
      for (let i = 0; i < 40; i++) {
        const s = spec({
          a: { retries: { limit: 1, backoff: { initial: '0s' } } }, b: { needs: ['a'] }, c: { needs: ['a'] }, d: { needs: ['b', 'c'] }, e: {},
        });
        jobs.push((await (i % 2 ? a : b).createJob(s, { defaultBackend: 'local' })).id);
      }
      const claimed: string[] = [];
      let busy = 0;
      let n = 0;
      // Fails some attempts (retries, upstream failures), finishes the rest.
      const outcome = (): AttemptOutcome => ((n++ % 5 === 0) ? { kind: 'exited', code: 1 } : { kind: 'succeeded' });
      const loop = async (store: PostgresStore, id: string): Promise<void> => {
        for (let round = 0; ; round++) {
          busy++;
          try {
            const claims = await store.claimAttempts({ workerId: id, backends: ['local'], leaseMs: 60_000, limit: 1 + (round % 4) });
            claimed.push(...claims.map((c) => c.attemptId));
            // Finish through the other store half of the time: its cached snapshots go stale.
            for (const c of claims) ok(await (round % 2 ? store : store === a ? b : a).finishAttempt(c, outcome()));
            if (claims.length > 0) continue;
          } finally {
            busy--;
          }
          if (busy === 0 && await store.nextQueuedAt(['local']) === undefined) return;
          await new Promise((r) => setImmediate(r));
        }
      };
      const cancels = (async () => {
        for (const [i, id] of jobs.entries()) {
          if (i % 7 !== 3) continue;
          const r = await (i % 2 ? b : a).cancelJob(id, 'enough');
          if (!r.ok) assert.equal(r.error.code, 'conflict'); // it may have ended already
        }
      })();
      await Promise.all([loop(a, 'a1'), loop(a, 'a2'), loop(a, 'a3'), loop(b, 'b1'), loop(b, 'b2'), loop(b, 'b3'), cancels]);

      assert.equal(new Set(claimed).size, claimed.length, 'an attempt was claimed twice');
      assert.ok(claimed.length >= 40 * 2, `only ${claimed.length} claims`);
      const views = await Promise.all(jobs.map((id) => a.getJob(id)));
      for (const v of views) {
        assert.ok(v && v.endedAt !== null, `job ${v?.id} did not end: ${v?.state}`);
        assert.ok(v.tasks.every((t) => t.attempts.every((x) => x.state === 'ended')), `job ${v.id} has a live attempt`);
        const ids = v.tasks.flatMap((t) => t.attempts.filter((x) => x.worker !== null).map((x) => `${v.id}-${t.name}-${x.number}`));
        assert.ok(ids.every((x) => claimed.includes(x)), 'every started attempt was claimed');
      }
      assert.ok(views.some((v) => v?.state === 'canceled') && views.some((v) => v?.state === 'failed') && views.some((v) => v?.state === 'succeeded'));
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('a follower paging events by id while two stores write at once misses none', async () => {
    const [a, b] = await twoStores();
    try {
      let writing = true;
      const seen: number[] = [];
      const follower = (async () => {
        let cursor = 0;
        for (;;) {
          const last = !writing; // one more read after the writers are done
          const page = await a.readEvents(cursor, 500);
          for (const e of page) seen.push(e.id);
          cursor = page.at(-1)?.id ?? cursor;
          if (last && page.length === 0) return;
        }
      })();
      const writer = async (store: PostgresStore): Promise<void> => {
        for (let i = 0; i < 15; i++) await store.createJob(spec({ x: {}, y: {}, z: { needs: ['x'] } }), { defaultBackend: 'local' });
      };
      await Promise.all([a, a, a, a, b, b, b, b].map(writer));
      writing = false;
      await follower;
      const all = (await b.readEvents(0, 100_000)).map((e) => e.id);
      assert.equal(all.length, 8 * 15 * 8); // per job: its state, 3 tasks created, 2 ready, 2 attempts queued
      assert.deepEqual(seen, all, 'the follower missed or repeated events');
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('a follower paging a job\'s logs by id while two workers append at once misses none', async () => {
    const [a, b] = await twoStores();
    try {
      const job = await a.createJob(spec({ x: {}, y: {} }), { defaultBackend: 'local' });
      const [cx] = await a.claimAttempts({ workerId: 'wa', backends: ['local'], leaseMs: 60_000, limit: 1 });
      const [cy] = await b.claimAttempts({ workerId: 'wb', backends: ['local'], leaseMs: 60_000, limit: 1 });
      assert.ok(cx && cy);
      let writing = true;
      const seen: number[] = [];
      const follower = (async () => {
        let cursor = 0;
        for (;;) {
          const last = !writing;
          const page = await a.readLogs({ jobId: job.id, after: cursor, limit: 500 });
          for (const e of page) seen.push(e.id);
          cursor = page.at(-1)?.id ?? cursor;
          if (last && page.length === 0) return;
        }
      })();
      const append = async (store: PostgresStore, c: Claim): Promise<void> => {
        for (let i = 0; i < 150; i++) ok(await store.appendLogs(c, [{ stream: 'stdout', time: i, text: `${c.task} ${i}\n`, bytes: 4 }]));
      };
      await Promise.all([append(a, cx), append(b, cy), append(a, cx), append(b, cy)]);
      writing = false;
      await follower;
      const all = (await b.readLogs({ jobId: job.id, limit: 10_000 })).map((e) => e.id);
      assert.equal(all.length, 600);
      assert.deepEqual(seen, all, 'the follower missed or repeated log entries');
    } finally {
      await a.close();
      await b.close();
    }
  });
});
