// Checks of command-line values (--env, --label, --limit, --lease, …), refused with the flag's
// name and what was expected.
import { ApiError } from '../client/types.js';
import { durationMs } from '../spec/plan.js';
import { DURATION_RE } from '../spec/schema.js';

export function parsePairs(flag: string, pairs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new ApiError('invalid', `${flag}: expected KEY=VALUE, got ${JSON.stringify(pair)}`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

export function wholeNumber(flag: string, v: string, min: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new ApiError('invalid', `${flag}: expected a whole number ≥ ${min}, got ${JSON.stringify(v)}`);
  return n;
}

export function duration(flag: string, v: string): number {
  if (!DURATION_RE.test(v)) throw new ApiError('invalid', `${flag}: expected a duration such as "30s", got ${JSON.stringify(v)}`);
  return durationMs(v);
}
