// Reading a job file: text (JSON or YAML) or an already-parsed value in, a validated JobSpec or
// every error at once out. Pure: the caller reads files and request bodies.
import type { ErrorDetail } from './api.js';
import { defaultErrorMap, issuesToErrors, parsePath } from './errors.js';
import { checkGraph } from './graph.js';
import { decodeJson } from './json-text.js';
import { jobSchema, type JobSpec } from './schema.js';
import { type Decoded, exceedsDepth, isPlainObject, placed, TOO_DEEP } from './source.js';
import { decodeYaml } from './yaml-text.js';

/** Errors listed before the rest are only counted: nobody reads thousands. */
export const MAX_ERRORS = 200;

export type ParseResult = { ok: true; spec: JobSpec } | { ok: false; errors: ErrorDetail[] };

export interface ParseOptions {
  /** How to read a string; guessed when absent. Ignored for non-string input. */
  format?: 'yaml' | 'json';
}

/**
 * Parses and validates a job. A string is read as JSON or YAML (see ParseOptions); anything else
 * is taken as the parsed document. Syntax errors come alone, with path "" and the place in the
 * message; otherwise schema and dependency-graph errors come together, in document order.
 */
export function parseJob(input: unknown, opts: ParseOptions = {}): ParseResult {
  let value = input;
  if (typeof input === 'string') {
    const text = input.startsWith('\uFEFF') ? input.slice(1) : input;
    const decoded = decode(text, opts.format);
    if (!decoded.ok) return { ok: false, errors: [{ path: '', message: placed(text, decoded.offset, decoded.message) }] };
    value = decoded.value;
  }
  return validate(value);
}

function decode(text: string, format: ParseOptions['format']): Decoded {
  if (format === 'json') return decodeJson(text);
  if (format === 'yaml') return decodeYaml(text);
  // YAML reads JSON too, but a JSON document with a mistake deserves JSON's error, not YAML's
  // (nor YAML's leniency: it takes a trailing comma). A flow-style YAML map also starts with
  // "{"; unless its first key is double-quoted it gets a second try as YAML.
  if (/^\s*\{/.test(text)) {
    const json = decodeJson(text);
    if (json.ok || /^\s*\{\s*["}]/.test(text)) return json;
    const yaml = decodeYaml(text);
    return yaml.ok ? yaml : json;
  }
  return decodeYaml(text);
}

function validate(value: unknown): ParseResult {
  // Aliases and caller-built objects can nest (or loop) past what recursive validation survives.
  if (exceedsDepth(value)) return { ok: false, errors: [{ path: '', message: TOO_DEEP }] };
  const result = jobSchema.safeParse(value, { reportInput: true, error: defaultErrorMap });
  const errors = result.success ? [] : issuesToErrors(result.error.issues, value, jobSchema);
  const tasks = isPlainObject(value) ? value.tasks : undefined;
  if (isPlainObject(tasks)) {
    // Where the schema already objected (e.g. a need that is not a valid name), its word stands.
    const taken = new Set(errors.map((e) => e.path));
    for (const e of checkGraph(tasks)) if (!taken.has(e.path)) errors.push(e);
  }
  if (result.success && errors.length === 0) return { ok: true, spec: result.data };
  return { ok: false, errors: inDocumentOrder(errors, value) };
}

/** Errors sorted as their places appear in the document; errors at one place keep their order. */
function inDocumentOrder(errors: ErrorDetail[], value: unknown): ErrorDetail[] {
  // Key positions per object, computed once: a hostile document can have many errors in one map.
  const indexes = new Map<object, Map<string, number>>();
  const indexOf = (obj: Record<string, unknown>, key: string): number | undefined => {
    let index = indexes.get(obj);
    if (!index) indexes.set(obj, (index = new Map(Object.keys(obj).map((k, i) => [k, i]))));
    return index.get(key);
  };
  /** Position of each path segment among its siblings; missing ones sort last. */
  const positions = (path: string): number[] => {
    const out: number[] = [];
    let v = value;
    for (const seg of parsePath(path)) {
      let at: number | undefined;
      if (Array.isArray(v) && typeof seg === 'number' && seg < v.length) at = seg;
      else if (isPlainObject(v)) at = indexOf(v, String(seg));
      out.push(at ?? Infinity);
      v = at === undefined ? undefined : Array.isArray(v) ? v[at] : isPlainObject(v) ? v[String(seg)] : undefined;
    }
    return out;
  };
  const keyed = errors.map((e) => ({ e, key: positions(e.path) }));
  keyed.sort((a, b) => {
    for (let i = 0; i < Math.min(a.key.length, b.key.length); i++) {
      const d = a.key[i]! - b.key[i]!;
      if (d !== 0 && !Number.isNaN(d)) return d;
    }
    return a.key.length - b.key.length;
  });
  const sorted = keyed.map((k) => k.e);
  if (sorted.length <= MAX_ERRORS) return sorted;
  const rest = sorted.length - MAX_ERRORS;
  return [...sorted.slice(0, MAX_ERRORS), { path: '', message: `${rest} more error${rest === 1 ? '' : 's'} not listed` }];
}
