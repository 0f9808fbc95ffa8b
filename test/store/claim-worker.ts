// Run in a worker thread by concurrency.test.ts: claims from a shared database file until
// nothing is left, and reports the attempt ids it got.
import { parentPort, workerData } from 'node:worker_threads';
import { openSqliteStore } from '../../src/store/sqlite/index.js';

const { path, workerId } = workerData as { path: string; workerId: string };
const store = await openSqliteStore({ path });
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
