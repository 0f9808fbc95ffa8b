// Property-based fuzzing of parseJob: whatever it is given (random text, mutated job files,
// arbitrary values, hostile YAML), it never throws and never hangs, and it either accepts a spec
// the schema accepts or lists clear errors. Seeds are fixed and runs bounded; see common.ts.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import * as fc from 'fast-check';
import { stringify as yamlStringify } from 'yaml';
import { MAX_ERRORS, parseJob, type ParseOptions, type ParseResult } from '../../src/spec/parse.js';
import { jobSchema, type JobSpec } from '../../src/spec/schema.js';
import { assertClearMessage, mutate, mutation, params, piece, show, Slowest } from './common.js';

const T = { timeout: 30_000 };

const FORMATS: ReadonlyArray<ParseOptions['format']> = [undefined, 'yaml', 'json'];
const format = fc.constantFrom(...FORMATS);

/** The properties every result must have; returns it for further checks. */
function checkResult(r: ParseResult, input: () => string): ParseResult {
  const what = (): string => `input ${input()} → ${show(r, 400)}`;
  assert.equal(typeof r, 'object', what());
  if (r.ok) {
    const again = jobSchema.safeParse(r.spec);
    assert.ok(again.success, `accepted a spec the schema refuses: ${what()}`);
    return r;
  }
  assert.ok(Array.isArray(r.errors) && r.errors.length > 0, `no errors listed: ${what()}`);
  assert.ok(r.errors.length <= MAX_ERRORS + 1, `${r.errors.length} errors: ${what()}`);
  for (const e of r.errors) {
    assert.equal(typeof e.path, 'string', `path is not a string: ${what()}`);
    assertClearMessage(e.message, what());
  }
  return r;
}

/** Parses with a hang check and the result checks. */
function run(slowest: Slowest, input: unknown, opts?: ParseOptions): ParseResult {
  const label = (): string => `${show(input)}${opts?.format ? ` as ${opts.format}` : ''}`;
  let r: ParseResult | undefined;
  slowest.time(label, () => {
    try {
      r = parseJob(input, opts);
    } catch (e) {
      assert.fail(`parseJob threw ${e instanceof Error ? e.stack : String(e)} on ${label()}`);
    }
  });
  return checkResult(r!, label);
}

// ---- valid job specs ---------------------------------------------------------------------------

/** fast-check also makes maps without a prototype; the parser takes them, but deepEqual tells them apart. */
const NP = { noNullPrototype: true } as const;
const TEXT = fc.string({ unit: 'binary', maxLength: 12 });
const DNS_LABEL = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?$/);
const DURATION = fc.array(fc.tuple(fc.nat(999), fc.constantFrom('ms', 's', 'm', 'h')), { minLength: 1, maxLength: 3 })
  .map((parts) => parts.map(([n, u]) => `${n}${u}`).join(''));
const ENV_KEY = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,8}$/).filter((k) => !k.startsWith('WHARF_'));
const LABEL_KEY = fc.stringMatching(/^[A-Za-z0-9](?:[A-Za-z0-9._/-]{0,10}[A-Za-z0-9])?$/);

const task = (earlier: readonly string[]) => fc.record({
  command: fc.array(TEXT, { minLength: 1, maxLength: 4 }),
  image: fc.string({ minLength: 1, maxLength: 20 }),
  backend: fc.constantFrom('local', 'docker', 'kubernetes'),
  env: fc.dictionary(ENV_KEY, TEXT, { maxKeys: 3, ...NP }),
  needs: fc.subarray([...earlier]),
  timeout: DURATION,
  retries: fc.record({
    limit: fc.integer({ min: 0, max: 100 }),
    backoff: fc.record({ initial: DURATION, factor: fc.double({ min: 1, max: 1e6, noNaN: true }), max: DURATION }, { requiredKeys: [], ...NP }),
  }, { requiredKeys: ['limit'], ...NP }),
  workingDir: fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }),
  resources: fc.record({
    cpu: fc.oneof(fc.double({ min: 0.001, max: 64, noNaN: true }), fc.stringMatching(/^(?:\d{1,3}(?:\.\d{1,2})?|\d{1,4}m)$/)),
    memory: fc.stringMatching(/^\d{1,6}(?:Ki|Mi|Gi|Ti|K|M|G|T|k)?$/),
  }, { requiredKeys: [], ...NP }),
}, { requiredKeys: ['command'], ...NP });

/** A valid job: tasks need only earlier tasks, so there is no cycle. */
const validSpec: fc.Arbitrary<JobSpec> = fc.record({
  name: fc.string({ unit: 'binary', minLength: 1, maxLength: 30 }),
  labels: fc.dictionary(LABEL_KEY, fc.string({ unit: 'binary', maxLength: 30 }), { maxKeys: 3, ...NP }),
  names: fc.uniqueArray(DNS_LABEL, { minLength: 1, maxLength: 5 }),
}, { requiredKeys: ['name', 'names'], ...NP }).chain(({ names, ...job }) =>
  fc.tuple(...names.map((_, i) => task(names.slice(0, i)))).map((tasks) => ({
    ...job,
    tasks: Object.fromEntries(names.map((n, i) => [n, tasks[i]!])),
  })));

/** Job file text of a spec, in one of several styles. */
const textOf = (spec: JobSpec) => fc.constantFrom<Array<{ text: string; format: 'yaml' | 'json' }>>(
  { text: yamlStringify(spec), format: 'yaml' },
  { text: yamlStringify(spec, { defaultStringType: 'QUOTE_DOUBLE', indent: 4 }), format: 'yaml' },
  { text: yamlStringify(spec, { collectionStyle: 'flow' }), format: 'yaml' },
  { text: JSON.stringify(spec), format: 'json' },
  { text: JSON.stringify(spec, null, 2), format: 'json' },
);

// ---- values ------------------------------------------------------------------------------------

/** Values of every type a caller could pass, functions aside. */
const WEIRD: readonly unknown[] = [
  undefined, null, true, false, 0, -0, 1.5, -1, NaN, Infinity, -Infinity, Number.MAX_SAFE_INTEGER + 2, 1e308,
  '', ' ', 'x', '30s', '\u0000', '\uD800', 'a'.repeat(300), 10n, Symbol('s'), [], [[]], [null], {}, { a: 1 },
  Object.create(null) as object, new Date(0), new Map([['a', 1]]), new Set(['a']), /re/, new Uint8Array([1]),
  Object.assign(Object.create(null) as object, { command: ['x'] }), new (class Job { name = 'x'; })(), new String('s'),
];
const weird = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom(...WEIRD) },
  { weight: 1, arbitrary: fc.anything({ maxDepth: 2, withBigInt: true, withNullPrototype: true, withMap: true, withSet: true, withBoxedValues: true, withDate: true, withTypedArray: true, withSparseArray: true, withObjectString: true }) },
);

type Path = Array<string | number>;

/** Every place inside a value: paths to each map field and list item, the root included. */
function pathsOf(v: unknown, at: Path = [], out: Path[] = []): Path[] {
  out.push(at);
  if (Array.isArray(v)) v.forEach((x, i) => pathsOf(x, [...at, i], out));
  else if (typeof v === 'object' && v !== null) for (const [k, x] of Object.entries(v)) pathsOf(x, [...at, k], out);
  return out;
}

type Edit = { op: 'set'; value: unknown } | { op: 'delete' } | { op: 'addKey'; key: string; value: unknown } | { op: 'typo' };

const edit: fc.Arbitrary<Edit> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('set' as const), value: weird }) },
  { weight: 1, arbitrary: fc.constant({ op: 'delete' as const }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('addKey' as const),
      key: fc.oneof(fc.constantFrom('__proto__', 'constructor', 'toString', 'comand', 'Command', 'needs', 'tasks', '', 'a.b', '[0]', '"'), fc.string({ unit: 'binary', maxLength: 80 })),
      value: weird,
    }),
  },
  { weight: 1, arbitrary: fc.constant({ op: 'typo' as const }) },
);

/** A deep copy of `spec` with `e` applied at `path` (the root is replaced by a set, too). */
function applyEdit(spec: JobSpec, path: Path, e: Edit): unknown {
  const root: unknown = structuredClone(spec);
  if (path.length === 0) return e.op === 'set' ? e.value : root;
  let parent: unknown = root;
  for (const seg of path.slice(0, -1)) parent = (parent as Record<string | number, unknown>)[seg];
  const obj = parent as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  switch (e.op) {
    case 'set': obj[last] = e.value; break;
    case 'delete':
      if (Array.isArray(obj) && typeof last === 'number') obj.splice(last, 1);
      else delete obj[last];
      break;
    case 'addKey': {
      const target = obj[last];
      const into = typeof target === 'object' && target !== null && !Array.isArray(target) ? target : obj;
      Object.defineProperty(into, e.key, { value: e.value, enumerable: true, writable: true, configurable: true });
      break;
    }
    case 'typo':
      if (typeof last === 'string' && !Array.isArray(obj)) {
        const value = obj[last];
        delete obj[last];
        obj[last.slice(1) || 'x'] = value;
      }
      break;
  }
  return root;
}

// ---- YAML edge cases ---------------------------------------------------------------------------

const VALID_YAML = 'name: j\ntasks:\n  a:\n    command: [echo, hi]\n';

/** Hand-written hostile or odd YAML: each must be answered, never thrown at the caller. */
const YAML_CASES: readonly string[] = [
  // anchors and aliases
  'name: &n j\ntasks:\n  a: &t\n    command: [echo]\n  b: *t\n',
  'name: j\ntasks:\n  a:\n    command: &c [echo]\n    env: *c\n',
  'name: *undefined_anchor\ntasks: {}\n',
  'a: &a [*a]\n',
  '&a [*a, *a]\n',
  'name: j\ntasks: &t\n  a:\n    command: [x]\n    needs: *t\n',
  'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n',
  '? &k [a]\n: v\n? *k\n: w\n',
  // tags
  'name: !!binary aGVsbG8=\ntasks:\n  a:\n    command: [!!binary aGk=]\n',
  'name: !!js/function "function () { return 1 }"\ntasks: {}\n',
  'name: !!js/undefined ~\ntasks: !!js/regexp /x/\n',
  'name: !custom j\ntasks: !<tag:example.com,2000:job> {}\n',
  'name: !!set {a, b}\ntasks: !!omap [a: 1]\n',
  'name: !!timestamp 2001-12-14\ntasks: !!pairs [a: 1]\n',
  'name: !!int "12"\ntasks: !!map {a: !!seq [x]}\n',
  '%TAG ! tag:example.com,2000:\n--- !job\nname: j\n',
  '%YAML 1.1\n---\nname: yes\ntasks: {a: {command: [on, off]}}\n',
  '%YAML 9.9\n---\nname: j\n',
  '!!str\n',
  '!\n',
  'name: !! j\n',
  // merge keys
  'base: &b {command: [x]}\nname: j\ntasks:\n  a:\n    <<: *b\n',
  'name: j\ntasks:\n  a:\n    <<: [*nope]\n    command: [x]\n',
  'name: j\ntasks:\n  a:\n    <<: 5\n    command: [x]\n',
  'name: j\ntasks:\n  a:\n    <<: [1, "x", [y]]\n    command: [x]\n',
  'x: &x {a: 1}\n<<: [*x, *x, *x]\nname: j\ntasks: {}\n',
  'name: j\n<<: {name: k}\ntasks:\n  a: {command: [x], <<: {command: [y]}}\n',
  'name: j\ntasks:\n  <<: &m {a: {command: [x]}}\n  b: {<<: *m}\n',
  'a: &a {<<: *a}\n',
  // keys
  `${'k'.repeat(5000)}: v\nname: j\ntasks: {}\n`,
  `name: j\ntasks:\n  ${'a'.repeat(3000)}:\n    command: [x]\n`,
  `name: j\ntasks:\n  a:\n    command: [x]\n    ${'comand'.repeat(500)}: 1\n`,
  '? [a, b]\n: c\nname: j\n',
  '? {a: 1}\n: c\n',
  '[1]: a\n',
  '~: a\nnull: b\n',
  '1: a\n2: b\n',
  'name: j\ntasks:\n  1: {command: [x]}\n  true: {command: [y]}\n  null: {command: [z]}\n',
  'name: j\nname: k\n',
  'name: j\ntasks:\n  a: {command: [x]}\n  a: {command: [y]}\n',
  // nesting
  `name: ${'['.repeat(64)}${']'.repeat(64)}\n`,
  `name: ${'['.repeat(65)}${']'.repeat(65)}\n`,
  `name: ${'['.repeat(10_000)}\n`,
  `name: ${'{a: '.repeat(5000)}`,
  `${'- '.repeat(5000)}x\n`,
  `${Array.from({ length: 200 }, (_, i) => `${' '.repeat(i)}a${i}:\n`).join('')}`,
  `[${'[]'.repeat(5000)}]`,
  // bytes and code units
  `\uFEFF${VALID_YAML}`,
  `\uFEFF\uFEFF${VALID_YAML}`,
  `name: j\uFEFF\ntasks:\n  a:\n    command: [x]\n`,
  `name: "j\u0000"\ntasks:\n  a:\n    command: [x]\n`,
  `name: j\u0000\ntasks: {}\n`,
  '\u0000',
  `name: \uD800\ntasks: {a: {command: ["\uDFFF"]}}\n`,
  `name: "\\uD800"\ntasks: {a: {command: ["\\uDC00\\uD800"]}}\n`,
  `{"name": "\uD800", "tasks": {"a": {"command": ["x"]}}}`,
  `{"name": "\\uD800", "tasks": {"a": {"command": ["x"]}}}`,
  'name: j\r\ntasks:\r\n  a:\r\n    command: [x]\r\n',
  'name: j\rtasks:\r  a:\r    command: [x]\r',
  'name:\tj\ntasks:\n\ta:\n\t\tcommand: [x]\n',
  'name: j\u2028tasks: {}\n',
  'name: j\u0085tasks: {}\n',
  '\u001b[31mname\u001b[0m: j\n',
  // documents and scalars
  '', ' ', '\n', '#', '---', '...', '--- \n...\n--- \n', '---\nname: j\n---\nname: k\n', '- a\n- b\n', 'just text',
  '"unterminated', "'unterminated", '{unclosed: 1', '[unclosed', '|\n  block', '>-\n', '? ', ':', '-', '&', '*', '!',
  '%', '@', '`', 'name: |\n x\n  y\n z\n', `name: "${'\\'.repeat(1001)}"`, `name: "${'\\x'.repeat(500)}"`,
  'name: .inf\ntasks: {a: {command: [x], retries: {limit: .nan}}}\n',
  'name: 0x10\ntasks: {a: {command: [x], retries: {limit: 1e400, backoff: {factor: -.inf}}}}\n',
  'name: j\ntasks: {a: {command: [x], retries: {limit: 99999999999999999999999}}}\n',
  'name: j\ntasks: {a: {command: [x], resources: {cpu: 0, memory: 00}}}\n',
  '{"name": "j", "tasks": {"a": {"command": ["x"]}},}',
  '{"name": "j", "tasks": {"a": {"command": ["x"]}}} trailing',
  '{name: j, tasks: {a: {command: [x]}}}',
  '{ "name" : "j" , "name": "k" }',
  '{"__proto__": {"polluted": 1}, "name": "j", "tasks": {"a": {"command": ["x"]}}}',
  '__proto__: {polluted: 1}\nname: j\ntasks: {a: {command: [x]}}\n',
  'name: j\ntasks:\n  constructor: {command: [x]}\n  toString: {command: [x]}\n  __proto__: {command: [x]}\n',
  'name: j\ntasks:\n  a: {command: [x], needs: [constructor, __proto__, toString, hasOwnProperty]}\n',
  'name: j\ntasks:\n  a: {command: [x], env: {__proto__: x, constructor: y}}\n',
  'name: j\nlabels: {__proto__: x, toString: y}\ntasks: {a: {command: [x]}}\n',
];

/** Random documents assembled from YAML's sharp edges, to reach what the hand-written cases do not. */
const FRAGMENTS = [
  'name: j\n', 'tasks:\n', '  a:\n', '    command: [x]\n', '    needs: [a]\n', '  b: &b\n', '    command: *c\n', '  c: *b\n',
  '    <<: *b\n', '<<: {name: k}\n', 'x: &c [y]\n', '!!binary ', '!!js/function ', '!t ', '&a ', '*a ', '*a\n', '? ', ': ',
  '- ', '[', ']', '{', '}', ',', '"', "'", '|\n', '>\n', '#c\n', '---\n', '...\n', '%YAML 1.2\n', '\uFEFF', '\u0000',
  '\uD800', '\t', ' ', '  ', '\n', 'k'.repeat(300), '[[[[[[[[', ']]]]]]]]', '{a: {b: {c: ', '}}}', '"\\u', '\\',
];
const fragmentDoc = fc.array(fc.constantFrom(...FRAGMENTS), { maxLength: 30 }).map((parts) => parts.join(''));

/**
 * Well-formed flow YAML with anchors, aliases (to anchors that may or may not come first), merge
 * keys with any value, and tags, shaped like a job: what the yaml package resolves after parsing.
 */
const referenceDoc = (() => {
  const anchor = fc.constantFrom('a0', 'a1', 'a2');
  const props = fc.tuple(
    fc.option(anchor.map((a) => `&${a} `), { nil: '', freq: 2 }),
    fc.option(fc.constantFrom('!!str ', '!!int ', '!!map ', '!!seq ', '!!binary ', '!!js/function ', '!custom ', '!!null ', '!!merge ', '!<tag:x> '), { nil: '', freq: 6 }),
  ).map(([a, t]) => a + t);
  const scalar = fc.constantFrom('x', '1', '"q"', "'s'", '~', 'true', '.nan', '1e999', '-0', '""', '30s', 'build', 'test');
  const key = fc.constantFrom('name', 'tasks', 'command', 'needs', 'env', 'retries', 'limit', '<<', '<<', '"<<"', 'a', 'b', 'A');
  const { value } = fc.letrec<{ value: string }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.tuple(props, scalar).map(([p, v]) => p + v),
      anchor.map((a) => `*${a}`),
      fc.tuple(props, fc.array(tie('value'), { maxLength: 3 })).map(([p, vs]) => `${p}[${vs.join(', ')}]`),
      fc.tuple(props, fc.uniqueArray(fc.tuple(key, tie('value')), { maxLength: 3, selector: ([k]) => k })).map(([p, kvs]) => `${p}{${kvs.map(([k, v]) => `${k}: ${v}`).join(', ')}}`),
    ),
  }));
  const extraKey = fc.constantFrom('labels', 'base', '<<', 'A');
  const merge = fc.oneof(value, fc.constantFrom('{command: [y]}', '*a0', '[*a0, *a1]', '[{image: i}, *a2]', '{}', '&a2 {env: {}}'));
  return fc.tuple(value, value, merge, fc.uniqueArray(fc.tuple(extraKey, value), { maxLength: 2, selector: ([k]) => k })).map(([a, b, merge, extra]) =>
    `{name: j, tasks: {a: {command: [x], env: ${a}, <<: ${merge}}, b: ${b}}${extra.map(([k, v]) => `, ${k}: ${v}`).join('')}}`);
})();

// ---- the properties ----------------------------------------------------------------------------

describe('fuzz: parseJob', () => {
  // Nothing a document says may reach the process's warnings (a server's stderr).
  const warnings: string[] = [];
  const onWarning = (w: Error): void => {
    warnings.push(w.message);
  };
  before(() => process.on('warning', onWarning));
  after(() => process.off('warning', onWarning));
  afterEach(async () => {
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(warnings.splice(0), [], 'parseJob emitted process warnings');
  });

  test('arbitrary strings', T, (t) => {
    const slowest = new Slowest();
    const text = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.string({ unit: 'binary-ascii', maxLength: 200 }),
      fc.string({ unit: 'grapheme', maxLength: 50 }),
      // Code units, so lone surrogates too.
      fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 100 }).map((us) => String.fromCharCode(...us)),
      fc.array(piece, { maxLength: 40 }).map((ps) => ps.join('')),
    );
    fc.assert(fc.property(text, format, (s, f) => {
      run(slowest, s, f ? { format: f } : {});
    }), params(0x5eed01, 400));
    t.diagnostic(slowest.summary());
  });

  test('valid job files parse back to their spec, as YAML and JSON', T, (t) => {
    const slowest = new Slowest();
    fc.assert(fc.property(validSpec.chain((spec) => fc.tuple(fc.constant(spec), textOf(spec))), fc.boolean(), ([spec, file], guess) => {
      const r = run(slowest, file.text, guess ? {} : { format: file.format });
      assert.ok(r.ok, `a valid job was refused: ${show(r.ok ? '' : r.errors, 400)}\n${file.text}`);
      assert.deepEqual(r.spec, spec);
      assert.deepEqual(run(slowest, spec), r);
    }), params(0x5eed02, 150));
    t.diagnostic(slowest.summary());
  });

  test('mutated job files', T, (t) => {
    const slowest = new Slowest();
    const mutated = validSpec.chain(textOf).chain((file) =>
      fc.tuple(fc.constant(file), fc.array(mutation, { minLength: 1, maxLength: 6 })));
    fc.assert(fc.property(mutated, format, ([file, ms], f) => {
      run(slowest, mutate(file.text, ms), f === undefined ? {} : { format: f });
    }), params(0x5eed03, 400));
    t.diagnostic(slowest.summary());
  });

  test('arbitrary JSON values and other values, as documents and as JSON text', T, (t) => {
    const slowest = new Slowest();
    const value = fc.oneof(
      fc.jsonValue({ maxDepth: 4 }),
      fc.jsonValue({ maxDepth: 3, stringUnit: 'binary' }),
      weird,
      fc.dictionary(fc.constantFrom('name', 'labels', 'tasks', 'x'), fc.jsonValue({ maxDepth: 3 })),
      fc.record({ name: fc.jsonValue({ maxDepth: 1 }), tasks: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 3 })) }),
    );
    fc.assert(fc.property(value, (v) => {
      run(slowest, v);
      let text: string | undefined;
      try {
        text = JSON.stringify(v);
      } catch {
        text = undefined; // a bigint, say
      }
      if (typeof text === 'string') run(slowest, text, { format: 'json' });
    }), params(0x5eed04, 400));
    t.diagnostic(slowest.summary());
  });

  test('near-valid jobs: a wrong value, a missing or unknown field, a typo somewhere', T, (t) => {
    const slowest = new Slowest();
    const nearValid = validSpec.chain((spec) => fc.tuple(fc.constant(spec), fc.constantFrom(...pathsOf(spec)), edit));
    fc.assert(fc.property(nearValid, ([spec, path, e]) => {
      const doc = applyEdit(spec, path, e);
      run(slowest, doc);
      // As text too, where it can be written.
      let text: string | undefined;
      try {
        text = JSON.stringify(doc);
      } catch {
        text = undefined;
      }
      if (typeof text === 'string') run(slowest, text);
    }), params(0x5eed05, 400));
    t.diagnostic(slowest.summary());
  });

  test('YAML edge cases: anchors, tags, merge keys, long keys, deep nesting, BOMs, NULs, surrogates', T, (t) => {
    const slowest = new Slowest();
    for (const text of YAML_CASES) {
      for (const f of FORMATS) run(slowest, text, f === undefined ? {} : { format: f });
    }
    fc.assert(fc.property(fragmentDoc, format, (text, f) => {
      run(slowest, text, f === undefined ? {} : { format: f });
    }), params(0x5eed06, 300));
    fc.assert(fc.property(referenceDoc, (text) => {
      run(slowest, text, { format: 'yaml' });
    }), params(0x5eed07, 300));
    t.diagnostic(slowest.summary());
  });
});
