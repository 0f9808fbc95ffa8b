// The hot path's statements go by name (parsed and planned once per connection), their plans
// are dropped every so many calls so that none outlives the table sizes it was made for, the
// rest of the store's queries go unnamed, and the store works the same with naming turned off.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import { CompiledQuery } from 'kysely';
import type pg from 'pg';
import { openPostgresStore } from '../../../src/store/postgres/index.js';
import { namingPool, prepared } from '../../../src/store/postgres/prepared.js';
import type { Claim } from '../../../src/store/types.js';
import { freshDatabase } from '../../infra/postgres.js';
import { ok, request, spec } from '../helpers.js';

type Sent = string | { name: string; text: string; values: unknown[] };

/** A pg pool of one connection that records what is sent on it. */
function fakePool(): { pool: pg.Pool; sent: Sent[]; releases: () => number } {
  const sent: Sent[] = [];
  let released = 0;
  const client = {
    query: async (q: Sent) => {
      sent.push(q);
      return { command: 'SELECT', rowCount: 0, rows: [] };
    },
    release: () => { released++; },
  };
  const pool = Object.assign(new EventEmitter(), {
    connect: async () => {
      if (sent.length === 0) pool.emit('connect', client); // a new connection, once
      return client;
    },
    end: async () => undefined,
  });
  return { pool: pool as unknown as pg.Pool, sent, releases: () => released };
}

describe('postgres named statements', () => {
  it('names marked statements only, plans for any parameters, and drops the plans every 50 named calls', async () => {
    const { pool, sent, releases } = fakePool();
    const named = prepared(CompiledQuery.raw('SELECT $1::int AS marked_for_this_test', [1]));
    const plain = 'SELECT $1::int AS not_marked';
    const p = namingPool(pool);
    let c = await p.connect();
    await c.query(plain, [2]);
    await c.query(named.sql, [3]);
    c.release();
    assert.equal(sent[0], 'SET plan_cache_mode = force_generic_plan', 'first on a new connection');
    assert.equal(sent[1], plain, 'an unmarked statement goes unnamed');
    const { name, ...rest } = sent[2] as { name: string; text: string; values: unknown[] };
    assert.match(name, /^wharf_[0-9a-f]{24}$/);
    assert.deepEqual(rest, { text: named.sql, values: [3] });
    assert.equal(releases(), 1);

    for (let i = 0; i < 49; i++) {
      c = await p.connect();
      await c.query(named.sql, [i]);
      c.release();
    }
    assert.ok(!sent.includes('DISCARD PLANS'), 'not before 50 named calls');
    c = await p.connect();
    c.release();
    assert.equal(sent.at(-1), 'DISCARD PLANS', 'dropped at the checkout after the 50th');
    c = await p.connect();
    await c.query(named.sql, [0]);
    c.release();
    assert.equal(sent.filter((s) => s === 'DISCARD PLANS').length, 1, 'and counted again from there');
    assert.deepEqual(sent.at(-1), { name, text: named.sql, values: [0] }, 'the same name: the statement stays prepared');
  });

  it('the store claims, starts and finishes the same with naming off (a pooler that cannot keep statements)', async () => {
    const store = await openPostgresStore({ url: await freshDatabase(), preparedStatements: false });
    try {
      const job = await store.createJob(spec({ a: {}, b: { needs: ['a'] } }), { defaultBackend: 'local' });
      for (const task of ['a', 'b']) {
        const claims = await store.claimAttempts(request({ limit: 5 }));
        assert.deepEqual(claims.map((x) => x.task), [task]);
        const c = claims[0] as Claim;
        ok(await store.markStarted(c));
        ok(await store.finishAttempt(c, { kind: 'succeeded' }));
      }
      assert.equal((await store.getJob(job.id))?.state, 'succeeded');
    } finally {
      await store.close();
    }
  });
});
