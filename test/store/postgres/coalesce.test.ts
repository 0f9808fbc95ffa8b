// The group commit behind the PostgreSQL store's markStarted and finishAttempt: calls made
// together share one write, calls made while one is in flight form the next, and each call
// gets its own result, or its own error, whatever happens to the others.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Coalescer } from '../../../src/store/postgres/coalesce.js';

interface Item { key: string; value: number }

/** A coalescer whose writes are recorded and finish when the test says so. */
function recorder(opts: { maxBatch?: number; maxInFlight?: number; fail?: (items: readonly Item[]) => boolean } = {}) {
  const batches: string[][] = [];
  const pending: (() => void)[] = [];
  const c = new Coalescer<Item, number>(async (items) => {
    batches.push(items.map((i) => i.key));
    await new Promise<void>((resolve) => pending.push(resolve));
    if (opts.fail?.(items)) throw new Error(`refused: ${items.map((i) => i.key).join(',')}`);
    return items.map((i) => i.value * 10);
  }, { maxBatch: opts.maxBatch ?? 100, maxInFlight: opts.maxInFlight ?? 1, key: (i) => i.key });
  /** Lets every write sent so far finish, then waits until the next is sent or nothing is left. */
  const release = async (): Promise<void> => {
    for (const r of pending.splice(0)) r();
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
  };
  return { c, batches, release };
}

const item = (key: string, value = 1): Item => ({ key, value });
const turn = (): Promise<unknown> => new Promise((r) => setImmediate(r));

describe('coalescer', () => {
  it('calls made together go in one write; a lone call goes alone', async () => {
    const { c, batches, release } = recorder();
    const together = Promise.all([c.push(item('a', 1)), c.push(item('b', 2)), c.push(item('c', 3))]);
    await turn();
    assert.deepEqual(batches, [['a', 'b', 'c']]);
    await release();
    assert.deepEqual(await together, [10, 20, 30]);
    const lone = c.push(item('d', 4));
    await turn();
    await release();
    assert.equal(await lone, 40);
    assert.deepEqual(batches, [['a', 'b', 'c'], ['d']]);
    assert.deepEqual(c.stats, { batches: 2, items: 4, retriedAlone: 0 });
  });

  it('calls made while a write is in flight wait and go together in the next', async () => {
    const { c, batches, release } = recorder();
    const first = c.push(item('a'));
    await turn();
    const later = [c.push(item('b', 2)), c.push(item('c', 3))];
    await turn();
    assert.deepEqual(batches, [['a']], 'nothing more is sent while the first write is in flight');
    await release();
    assert.equal(await first, 10);
    assert.deepEqual(batches, [['a'], ['b', 'c']]);
    await release();
    assert.deepEqual(await Promise.all(later), [20, 30]);
  });

  it('with two in flight, a second batch goes while the first travels; a third waits', async () => {
    const { c, batches, release } = recorder({ maxInFlight: 2 });
    const first = c.push(item('a'));
    await turn();
    const second = c.push(item('b', 2));
    await turn();
    const third = [c.push(item('c', 3)), c.push(item('d', 4))];
    await turn();
    assert.deepEqual(batches, [['a'], ['b']]);
    await release();
    assert.deepEqual(await Promise.all([first, second]), [10, 20]);
    assert.deepEqual(batches, [['a'], ['b'], ['c', 'd']]);
    await release();
    assert.deepEqual(await Promise.all(third), [30, 40]);
  });

  it('keeps batches to maxBatch, and a call whose key is in a batch for a later one, in call order', async () => {
    const { c, batches, release } = recorder({ maxBatch: 2, maxInFlight: 2 });
    const all = Promise.all([c.push(item('a')), c.push(item('a', 2)), c.push(item('b')), c.push(item('c'))]);
    await turn();
    assert.deepEqual(batches, [['a', 'b']], "the second 'a' waits for the first even with a batch free");
    await release();
    await release();
    await release();
    assert.deepEqual(await all, [10, 20, 10, 10]);
    assert.deepEqual(batches, [['a', 'b'], ['a', 'c']]);
  });

  it('a write that fails is run again item by item: only the item refused gets the error', async () => {
    const { c, batches, release } = recorder({ fail: (items) => items.some((i) => i.key === 'bad') });
    const settled = Promise.allSettled([c.push(item('a')), c.push(item('bad')), c.push(item('b', 2))]);
    await turn();
    await release(); // the batch fails
    await release(); // each alone
    const [a, bad, b] = await settled;
    assert.deepEqual(a, { status: 'fulfilled', value: 10 });
    assert.equal(bad?.status, 'rejected');
    assert.match(String(bad?.status === 'rejected' ? bad.reason : ''), /refused: bad/);
    assert.deepEqual(b, { status: 'fulfilled', value: 20 });
    assert.deepEqual(batches, [['a', 'bad', 'b'], ['a'], ['bad'], ['b']]);
    assert.equal(c.stats.retriedAlone, 3);
  });

  it('a write that answers for the wrong number of items counts as failed', async () => {
    let calls = 0;
    const c = new Coalescer<Item, number>(async (items) => {
      calls++;
      return items.length > 1 ? [1] : [items[0]?.value ?? 0];
    }, { maxBatch: 10, key: (i) => i.key });
    assert.deepEqual(await Promise.all([c.push(item('a', 5)), c.push(item('b', 6))]), [5, 6]);
    assert.equal(calls, 3);
  });
});
