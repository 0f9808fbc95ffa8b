// cancelJob and retryJob: a person's request, refused with `conflict` when the job's state
// does not allow it.
import type { JobEvent } from '../../core/job-machine.js';
import type { JobView } from '../../spec/api.js';
import type { StoreResult } from '../types.js';
import { apply, loadJob } from './apply.js';
import type { Tx } from './db.js';
import { getJobView } from './views.js';

export function cancelJob(tx: Tx, id: string, reason: string): Promise<StoreResult<JobView>> {
  return act(tx, id, { type: 'cancel', reason });
}

export function retryJob(tx: Tx, id: string): Promise<StoreResult<JobView>> {
  return act(tx, id, { type: 'retry' });
}

async function act(tx: Tx, id: string, event: JobEvent): Promise<StoreResult<JobView>> {
  const job = await loadJob(tx, id);
  if (!job) return { ok: false, error: { code: 'not_found', message: `no job ${id}` } };
  const t = await apply(tx, job, event);
  if (!t.ok) return { ok: false, error: { code: 'conflict', message: t.message } };
  const view = await getJobView(tx.k, id);
  return view ? { ok: true, value: view } : { ok: false, error: { code: 'not_found', message: `no job ${id}` } };
}
