// appendLogs: one fenced transaction per call; the chunks' insert is compiled once.
import { sql } from 'kysely';
import type { LogStream } from '../../spec/api.js';
import type { Claim, Fenced, NewLogChunk } from '../types.js';
import { Query, type Tx } from './db.js';
import { fenceOf, held, LEASE_LOST, type Fence } from './fenced.js';

// The fence check and the counters in one statement; nothing is inserted if it fails.
const COUNT = new Query((k, $: Fence & { bytes: number; truncated: number; cursor: string | null }) =>
  k.updateTable('attempts').set((eb) => ({
    log_bytes: eb('log_bytes', '+', $.bytes),
    log_truncated: sql<number>`max(log_truncated, ${$.truncated})`,
    log_cursor: eb.fn.coalesce(eb.val($.cursor), 'log_cursor'),
  })).where((eb) => held(eb, $)));

const INSERT = new Query((k, $: { jobId: string; task: string; attempt: number; stream: LogStream; time: number; text: string }) =>
  k.insertInto('logs').values({
    job_id: $.jobId, task: $.task, attempt: $.attempt, stream: $.stream, time: $.time, text: $.text,
  }));

export function appendLogs(tx: Tx, claim: Claim, chunks: readonly NewLogChunk[], cursor?: string): Fenced {
  let bytes = 0;
  let truncated = 0;
  for (const c of chunks) {
    bytes += c.bytes;
    if (c.truncated) truncated = 1;
  }
  if (tx.sql.run(COUNT, { ...fenceOf(claim, tx.now), bytes, truncated, cursor: cursor ?? null }) === 0) return LEASE_LOST;
  if (chunks.length === 0) return { ok: true, value: undefined };
  for (const c of chunks) {
    tx.sql.run(INSERT, { jobId: claim.jobId, task: claim.task, attempt: claim.attempt, stream: c.stream, time: c.time, text: c.text });
  }
  tx.changes.logs.push({ jobId: claim.jobId, task: claim.task });
  return { ok: true, value: undefined };
}
