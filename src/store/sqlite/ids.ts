// Identifiers: short, lowercase and DNS-safe, because they end up in container and pod names.
import { randomBytes } from 'node:crypto';

// Crockford's base32 in lowercase: no i, l, o, u, so ids read back without ambiguity.
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

export function randomBase32(n: number): string {
  let s = '';
  for (const b of randomBytes(n)) s += ALPHABET[b & 31];
  return s;
}

/** `j` + 10 chars of millisecond time (sorts by creation) + 6 random: 17 chars. */
export function newJobId(now: number): string {
  let t = Math.max(0, Math.floor(now));
  let time = '';
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32] + time;
    t = Math.floor(t / 32);
  }
  return `j${time}${randomBase32(6)}`;
}

/** Unique because job ids hold no "-" and the number is always the last segment. */
export function attemptId(jobId: string, task: string, n: number): string {
  return `${jobId}-${task}-${n}`;
}
