// Run in a worker thread by concurrency.test.ts: claims from a shared database file until
// nothing is left, and reports the attempt ids it got.
import { parentPort, workerData } from 'node:worker_threads';
import { openSqliteStore } from '../../src/store/sqlite/index.js';

const { path, workerId, ready, threads } = workerData as { path: string; workerId: string; ready: Int32Array; threads: number };
const store = await openSqliteStore({ path });
Atomics.add(ready, 0, 1);
Atomics.notify(ready, 0);
while (Atomics.load(ready, 0) < threads) Atomics.wait(ready, 0, Atomics.load(ready, 0), 1000);
const claimed: string[] = [];
let idle = 0;
while (idle < 3) {
  const claims = await store.claimAttempts({ workerId, backends: ['local'], leaseMs: 60_000, limit: 1 + (claimed.length % 4) });
  for (const c of claims) claimed.push(c.attemptId);
  idle = claims.length === 0 ? idle + 1 : 0;
  await new Promise((r) => setImmediate(r));
}
await store.close();
parentPort?.postMessage(claimed);
