// finishAttempt: record how the attempt ended and let the job react (retry, dependants, end).
import { transition } from '../../core/job-machine.js';
import type { AttemptOutcome } from '../../core/states.js';
import type { Claim, Fenced } from '../types.js';
import { lockJob, persist, snapshotsOf, type JobRow } from './apply.js';
import type { Tx } from './db.js';
import { addEvent } from './events.js';
import { fenceOf, held, LEASE_LOST } from './fenced.js';

export async function finishAttempt(tx: Tx, claim: Claim, outcome: AttemptOutcome): Promise<Fenced> {
  // The job's row before the attempt's (the lock order, see apply.ts).
  const job = await lockJob(tx, claim.jobId);
  const r = await tx.k.updateTable('attempts').set({ state: 'ended', ended_at: tx.now, outcome: JSON.stringify(outcome) })
    .where((eb) => held(eb, fenceOf(claim, tx.now))).executeTakeFirst();
  if (r.numUpdatedRows === 0n) return LEASE_LOST;
  await attemptEnded(tx, job, claim.jobId, claim.task, claim.attempt, outcome);
  return { ok: true, value: undefined };
}

/** After the attempt row has ended (its job locked before): its event, then the job's transition. */
export async function attemptEnded(
  tx: Tx, row: JobRow | undefined, jobId: string, task: string, attempt: number, outcome: AttemptOutcome,
): Promise<void> {
  addEvent(tx, jobId, { type: 'attempt', task, attempt, state: 'ended', outcome });
  if (!row) return;
  const job = (await snapshotsOf(tx, [row])).get(row.id);
  if (!job) return;
  const event = { type: 'attempt_ended', task, attempt, outcome } as const;
  const t = transition(job.snapshot, event, tx.now);
  if (t.ok) await persist(tx, job, event, t.next, t.effects);
}
