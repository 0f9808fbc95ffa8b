// finishAttempt: record how the attempt ended and let the job react (retry, dependants, end).
import { transition } from '../../core/job-machine.js';
import type { AttemptOutcome } from '../../core/states.js';
import type { Claim, Fenced } from '../types.js';
import { loadJob, persist } from './apply.js';
import { Query, type Tx } from './db.js';
import { addEvent } from './events.js';
import { fenceOf, held, LEASE_LOST, type Fence } from './fenced.js';

const END = new Query((k, $: Fence & { outcome: string }) =>
  k.updateTable('attempts').set({ state: 'ended', ended_at: $.now, outcome: $.outcome }).where((eb) => held(eb, $)));

export function finishAttempt(tx: Tx, claim: Claim, outcome: AttemptOutcome): Fenced {
  if (tx.sql.run(END, { ...fenceOf(claim, tx.now), outcome: JSON.stringify(outcome) }) === 0) return LEASE_LOST;
  attemptEnded(tx, claim.jobId, claim.task, claim.attempt, outcome);
  return { ok: true, value: undefined };
}

/** After the attempt row has ended: its event, then the job's transition. */
export function attemptEnded(tx: Tx, jobId: string, task: string, attempt: number, outcome: AttemptOutcome): void {
  addEvent(tx, jobId, { type: 'attempt', task, attempt, state: 'ended', outcome });
  const job = loadJob(tx, jobId);
  if (!job) return;
  const event = { type: 'attempt_ended', task, attempt, outcome } as const;
  const t = transition(job.snapshot, event, tx.now);
  if (t.ok) persist(tx, job, event, t.next, t.effects);
}
