// Turns zod issues into the API's {path, message} errors: dotted paths, one error per unknown
// key with a did-you-mean, "required" for missing fields, and a message for every issue that the
// schema left to zod's defaults. Pure.
import { z } from 'zod';
import type { ErrorDetail } from './api.js';
import { isPlainObject } from './source.js';

type Issue = z.core.$ZodIssue;
type Path = readonly PropertyKey[];

/**
 * Passed as the parse-time error map: zod uses it only where the schema gave no message of its
 * own, so a message equal to this marks an issue whose message is ours to write.
 */
export const DEFAULT_MESSAGE = '\u0000default';
export const defaultErrorMap = (): string => DEFAULT_MESSAGE;

const PLAIN_SEGMENT = /^[A-Za-z0-9_-]+$/;

/** `tasks.a.needs[0]`; keys that would be ambiguous in dotted form are quoted: `labels["a.b"]`. */
export function formatPath(path: Path): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else {
      const s = String(seg);
      if (PLAIN_SEGMENT.test(s)) out += out === '' ? s : `.${s}`;
      else out += `[${JSON.stringify(s)}]`;
    }
  }
  return out;
}

const SEGMENT = /\.?([A-Za-z0-9_-]+)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/y;

/** The inverse of formatPath. */
export function parsePath(text: string): PropertyKey[] {
  const out: PropertyKey[] = [];
  SEGMENT.lastIndex = 0;
  while (SEGMENT.lastIndex < text.length) {
    const m = SEGMENT.exec(text);
    if (!m) break;
    if (m[1] !== undefined) out.push(m[1]);
    else if (m[2] !== undefined) out.push(Number(m[2]));
    else out.push(JSON.parse(m[3]!) as string);
  }
  return out;
}

/** Optimal-string-alignment distance: Levenshtein plus swapping two neighbours. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

const MAX_NAME = 64;

/** The candidate closest to `word`, if it is close enough to be a plausible typo. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  // No field or task name is longer, and the distance is at least the difference in length:
  // both spare the quadratic distance on hostile input.
  if (word.length > MAX_NAME) return undefined;
  for (const c of candidates) {
    if (c.length > MAX_NAME || Math.abs(c.length - word.length) > 2) continue;
    const dist = editDistance(word.toLowerCase(), c.toLowerCase());
    // A third of the length keeps "x" from suggesting "max" while "comand" finds "command".
    const limit = Math.min(2, Math.floor(Math.max(word.length, c.length) / 3));
    if (dist <= limit && dist < bestDistance) {
      best = c;
      bestDistance = dist;
    }
  }
  return best;
}

function unwrap(s: z.core.$ZodType): z.core.$ZodType {
  let cur = s;
  while (cur instanceof z.ZodOptional || cur instanceof z.ZodNullable || cur instanceof z.ZodDefault) cur = cur.unwrap();
  return cur;
}

/** The schema that validates the value at `path`, when the path leads through objects, records and arrays. */
function schemaAt(root: z.core.$ZodType, path: Path): z.core.$ZodType | undefined {
  let s: z.core.$ZodType | undefined = unwrap(root);
  for (const seg of path) {
    if (s instanceof z.ZodObject) s = (s.shape as Record<string, z.core.$ZodType>)[String(seg)];
    else if (s instanceof z.ZodRecord) s = s.valueType;
    else if (s instanceof z.ZodArray) s = s.element;
    else return undefined;
    if (s === undefined) return undefined;
    s = unwrap(s);
  }
  return s;
}

/** Field names of the object schema at `path`, in declaration order. */
export function knownKeys(root: z.core.$ZodType, path: Path): string[] {
  const s = schemaAt(root, path);
  return s instanceof z.ZodObject ? Object.keys(s.shape) : [];
}

function valueAt(input: unknown, path: Path): unknown {
  let v = input;
  for (const seg of path) {
    if (Array.isArray(v) && typeof seg === 'number') v = v[seg];
    else if (isPlainObject(v)) v = Object.hasOwn(v, String(seg)) ? v[String(seg)] : undefined;
    else return undefined;
  }
  return v;
}

function quote(v: unknown): string {
  if (typeof v === 'string' && v.length > 60) return `${JSON.stringify(v.slice(0, 57))}…`;
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return JSON.stringify(v);
  return describe(v);
}

/** What a value is, for "got …": type words for containers, the value itself for scalars. */
export function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return v.length === 0 ? 'an empty list' : 'a list';
  if (typeof v === 'string') return `the string ${quote(v)}`;
  if (typeof v === 'number') return `the number ${String(v)}`;
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'object') return 'a map';
  return `a ${typeof v}`;
}

function sizeOf(v: unknown): string {
  if (typeof v === 'string') return v.length === 0 ? 'an empty string' : `${v.length} characters`;
  if (Array.isArray(v)) return v.length === 0 ? 'an empty list' : `${v.length} items`;
  return quote(v);
}

/** The "got …" half of a message, where it says something the expectation does not. */
function gotPhrase(iss: Issue): string | undefined {
  switch (iss.code) {
    case 'invalid_type':
    case 'invalid_union':
      return describe(iss.input);
    case 'too_small':
    case 'too_big':
      return sizeOf(iss.input);
    case 'invalid_format':
    case 'invalid_value':
    case 'not_multiple_of':
      return quote(iss.input);
    default:
      return undefined;
  }
}

const TYPE_WORDS: Record<string, string> = {
  string: 'a string', number: 'a number', int: 'a whole number', boolean: 'true or false', array: 'a list',
  record: 'a map', object: 'a map', null: 'null',
};

function bound(iss: Extract<Issue, { code: 'too_small' | 'too_big' }>): string {
  const small = iss.code === 'too_small';
  const n = Number(small ? iss.minimum : iss.maximum);
  const many = (unit: string): string => `${iss.exact ? 'exactly' : small ? 'at least' : 'at most'} ${n} ${unit}${n === 1 ? '' : 's'}`;
  if (iss.origin === 'string') return small && n === 1 && !iss.exact ? 'a non-empty string' : many('character');
  if (iss.origin === 'array' || iss.origin === 'set') return many('item');
  const op = small ? (iss.inclusive ? '≥' : '>') : iss.inclusive ? '≤' : '<';
  return `${iss.origin === 'int' ? 'a whole number' : 'a number'} ${op} ${n}`;
}

/** "expected …" for an issue zod would have described with its default message; `at` is its full path. */
function expectation(iss: Issue, root: z.core.$ZodType, at: Path = iss.path): string {
  switch (iss.code) {
    case 'invalid_type': {
      if (iss.expected === 'object') {
        const keys = knownKeys(root, at);
        if (keys.length > 0) return `a map with the fields ${keys.join(', ')}`;
      }
      return TYPE_WORDS[iss.expected] ?? `a value of type ${iss.expected}`;
    }
    case 'too_small':
    case 'too_big':
      return bound(iss);
    case 'invalid_format':
      switch (iss.format) {
        case 'regex': return `text matching ${iss.pattern ?? 'the pattern'}`;
        case 'starts_with': return `text starting with ${quote((iss as z.core.$ZodIssueStringStartsWith).prefix)}`;
        case 'ends_with': return `text ending with ${quote((iss as z.core.$ZodIssueStringEndsWith).suffix)}`;
        case 'includes': return `text containing ${quote((iss as z.core.$ZodIssueStringIncludes).includes)}`;
        default: return `a valid ${iss.format.replaceAll('_', ' ')}`;
      }
    case 'invalid_value':
      return iss.values.length === 1 ? quote(iss.values[0]) : `one of ${iss.values.map((v) => quote(v)).join(', ')}`;
    case 'not_multiple_of':
      return `a multiple of ${iss.divisor}`;
    case 'invalid_union': {
      // Each branch failed on its own terms; list what each wanted.
      const wanted = new Set(iss.errors.map((branch) => (branch[0] ? expectation(branch[0], root, [...at, ...branch[0].path]) : 'something else')));
      return [...wanted].join(' or ');
    }
    default:
      return 'a valid value';
  }
}

function message(iss: Issue, root: z.core.$ZodType): string {
  if (iss.code === 'custom' && iss.message === DEFAULT_MESSAGE) return 'invalid value';
  const base = iss.message === DEFAULT_MESSAGE ? `expected ${expectation(iss, root)}` : iss.message;
  const got = gotPhrase(iss);
  return got !== undefined && !/\bgot\b/.test(base) ? `${base}, got ${got}` : base;
}

/**
 * Errors for zod's issues. `input` is the validated value (to tell a missing field from one set to
 * null, and to avoid suggesting a field that is already there); `root` is the schema it was
 * validated against (to name the fields an object allows).
 */
export function issuesToErrors(issues: readonly Issue[], input: unknown, root: z.core.$ZodType): ErrorDetail[] {
  const out: ErrorDetail[] = [];
  const seen = new Set<string>();
  const add = (path: Path, msg: string): void => {
    const p = formatPath(path);
    const key = `${p}\u0000${msg}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push({ path: p, message: msg });
  };
  // Suggestions cost an edit distance per field; tens of thousands of unknown keys get none after a while.
  let suggestions = 10_000;
  for (const iss of issues) {
    switch (iss.code) {
      case 'unrecognized_keys': {
        const known = knownKeys(root, iss.path);
        const present = valueAt(input, iss.path);
        const free = known.filter((k) => !(isPlainObject(present) && Object.hasOwn(present, k)));
        for (const key of iss.keys) {
          const guess = (suggestions -= free.length) >= 0 ? closest(key, free) : undefined;
          const what = `unknown field ${quote(key)}`;
          if (guess !== undefined) add([...iss.path, key], `${what}; did you mean ${quote(guess)}?`);
          else add([...iss.path, key], known.length > 0 ? `${what}; expected one of: ${known.join(', ')}` : what);
        }
        break;
      }
      case 'invalid_key':
        // The record's own message (e.g. "expected a map of task name → task") is about the map,
        // not the key; the key schema's issues say what is wrong with the key.
        for (const inner of iss.issues) add(iss.path, message(inner, root));
        break;
      case 'invalid_type':
        if (iss.path.length > 0 && iss.input === undefined) add(iss.path, 'required');
        else add(iss.path, message(iss, root));
        break;
      default:
        add(iss.path, message(iss, root));
    }
  }
  return out;
}
