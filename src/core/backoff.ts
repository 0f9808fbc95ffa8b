// Retry delays: initial·factor^n, capped at max. Pure.
import type { RetryPolicy } from '../spec/plan.js';

/** Delay before retry number `n` (0 for the first retry). */
export function backoffMs(policy: Pick<RetryPolicy, 'initialMs' | 'factor' | 'maxMs'>, n: number): number {
  const raw = policy.initialMs * Math.pow(policy.factor, Math.max(0, n));
  return Math.min(policy.maxMs, Number.isFinite(raw) ? Math.round(raw) : policy.maxMs);
}
