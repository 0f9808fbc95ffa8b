// appendLogs: the fence check and the attempt's counters in one statement; the chunks are
// inserted just before the commit, under the job's log lock (db.ts), only if it passed.
import { sql } from 'kysely';
import type { Claim, Fenced, NewLogChunk } from '../types.js';
import type { Tx } from './db.js';
import { fenceOf, held, LEASE_LOST } from './fenced.js';

export async function appendLogs(tx: Tx, claim: Claim, chunks: readonly NewLogChunk[], cursor?: string): Promise<Fenced> {
  let bytes = 0;
  let truncated = 0;
  for (const c of chunks) {
    bytes += c.bytes;
    if (c.truncated) truncated = 1;
  }
  const r = await tx.k.updateTable('attempts').set((eb) => ({
    log_bytes: eb('log_bytes', '+', bytes),
    log_truncated: sql<number>`greatest(log_truncated, ${truncated})`,
    log_cursor: eb.fn.coalesce(eb.val(cursor ?? null), 'log_cursor'),
  })).where((eb) => held(eb, fenceOf(claim, tx.now))).executeTakeFirst();
  if (r.numUpdatedRows === 0n) return LEASE_LOST;
  if (chunks.length === 0) return { ok: true, value: undefined };
  for (const c of chunks) {
    tx.logs.push({ jobId: claim.jobId, task: claim.task, attempt: claim.attempt, stream: c.stream, time: c.time, text: c.text });
  }
  tx.changes.logs.push({ jobId: claim.jobId, task: claim.task });
  return { ok: true, value: undefined };
}
