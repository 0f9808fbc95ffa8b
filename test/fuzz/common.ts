// Shared by the fuzz tests: fixed seeds and bounded run counts (so `npm test` stays reproducible
// and quick), a slowest-case tracker, and the checks every error message must pass.
//
// A failing property prints its seed and counterexample path; replay it with
//   WHARF_FUZZ_SEED=<seed> node test/run.mjs fuzz
// and fuzz longer than the suite does with e.g. WHARF_FUZZ_RUNS=20 (a multiplier of every run count).
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import * as fc from 'fast-check';

const multiplier = Number(process.env.WHARF_FUZZ_RUNS ?? '1');
const seedOverride = process.env.WHARF_FUZZ_SEED === undefined ? undefined : Number(process.env.WHARF_FUZZ_SEED);

/** fast-check parameters of one property: its own fixed seed, `runs` runs (times WHARF_FUZZ_RUNS). */
export function params(seed: number, runs: number): fc.Parameters<unknown> {
  const numRuns = Math.max(1, Math.round(runs * (Number.isFinite(multiplier) && multiplier > 0 ? multiplier : 1)));
  return { seed: seedOverride ?? seed, numRuns, endOnFailure: false };
}

/** A case slower than this is reported as a finding (not failed: machines differ). */
export const SLOW_MS = 200;
/** A case slower than this fails: it is a hang, not a slow machine. */
export const HANG_MS = 2000;

/** The slowest cases seen by one test, for its diagnostics. */
export class Slowest {
  private worst: { ms: number; what: string } = { ms: 0, what: '' };
  private slow = 0;
  private count = 0;

  /** Runs `f`, fails if it took longer than HANG_MS, and records how long it took. */
  time<T>(what: () => string, f: () => T): T {
    const start = performance.now();
    const out = f();
    this.record(performance.now() - start, what);
    return out;
  }

  async timeAsync<T>(what: () => string, f: () => Promise<T>): Promise<T> {
    const start = performance.now();
    const out = await f();
    this.record(performance.now() - start, what);
    return out;
  }

  private record(ms: number, what: () => string): void {
    this.count++;
    if (ms > SLOW_MS) this.slow++;
    if (ms > this.worst.ms) this.worst = { ms, what: what() };
    assert.ok(ms < HANG_MS, `a case took ${Math.round(ms)} ms (a hang?): ${what()}`);
  }

  summary(): string {
    const slow = this.slow > 0 ? `; ${this.slow} over ${SLOW_MS} ms (finding)` : '';
    return `${this.count} cases, slowest ${this.worst.ms.toFixed(1)} ms: ${this.worst.what}${slow}`;
  }
}

/** A short, printable account of an input for a failure or a diagnostic. */
export function show(v: unknown, max = 160): string {
  let s: string;
  if (typeof v === 'string') s = JSON.stringify(v);
  else {
    try {
      s = JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x)) ?? String(v);
    } catch {
      s = Object.prototype.toString.call(v);
    }
  }
  return s.length > max ? `${s.slice(0, max)}… (${s.length} chars)` : s;
}

/** JSON string literals (quoted input, which may say anything) removed from a message. */
function unquoted(message: string): string {
  return message.replace(/"(?:[^"\\\n]|\\.)*"/g, '""');
}

/**
 * A message fit for a person: non-empty, no "[object Object]", no "undefined" outside quoted
 * input, no stack frame, no path of the server's own files.
 */
export function assertClearMessage(message: unknown, context: string): void {
  assert.equal(typeof message, 'string', `message is not a string: ${context}`);
  const m = message as string;
  assert.ok(m.trim().length > 0, `empty message: ${context}`);
  assert.ok(!m.includes('[object '), `"[object …]" in ${JSON.stringify(m)}: ${context}`);
  const bare = unquoted(m);
  assert.ok(!/\bundefined\b/.test(bare), `"undefined" in ${JSON.stringify(m)}: ${context}`);
  assert.ok(!/\n\s*at \S.*:\d+:\d+\)?$/m.test(m), `a stack trace in ${JSON.stringify(m)}: ${context}`);
  assert.ok(!/(?:file:\/\/|node_modules|\/dist\/|\/src\/|node:internal)/.test(bare), `an internal path in ${JSON.stringify(m)}: ${context}`);
}

// ---- mutations ---------------------------------------------------------------------------------

/** Characters that mean something to YAML or JSON, or to a decoder. */
const SPECIAL = [
  '{', '}', '[', ']', ':', ',', '-', '?', '"', "'", '&', '*', '!', '|', '>', '#', '%', '@', '`', '\\', '<<', '~',
  ' ', '\t', '\n', '\r', '\r\n', '\u0000', '\uFEFF', '\uD800', '\uDFFF', '\u2028', '\u0085', '\u00A0', '---', '...',
  '&a ', '*a', '!!str ', '!!binary ', '!custom ', '!<tag:x> ', 'null', 'true', '1e999', '-0', '.nan', '0x1F', '"\\u12',
];
export const piece = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...SPECIAL) }, { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 4 }) });

export type Mutation =
  | { op: 'insert'; at: number; text: string }
  | { op: 'delete'; at: number; length: number }
  | { op: 'replace'; at: number; text: string }
  | { op: 'truncate'; at: number };

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), text: piece }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ op: fc.constant('replace' as const), at: fc.nat(), text: piece }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
);

export function mutate(text: string, ms: readonly Mutation[]): string {
  let s = text;
  for (const m of ms) {
    const at = m.at % (s.length + 1);
    switch (m.op) {
      case 'insert': s = s.slice(0, at) + m.text + s.slice(at); break;
      case 'delete': s = s.slice(0, at) + s.slice(at + m.length); break;
      case 'replace': s = s.slice(0, at) + m.text + s.slice(at + 1); break;
      case 'truncate': s = s.slice(0, at); break;
    }
  }
  return s;
}
