import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { z } from 'zod';
import { closest, defaultErrorMap, editDistance, formatPath, issuesToErrors, parsePath } from '../../src/spec/errors.js';

/** Errors for `value` against a schema, validated the way parseJob does it. */
function errorsFor(schema: z.ZodType, value: unknown): Array<{ path: string; message: string }> {
  const r = schema.safeParse(value, { reportInput: true, error: defaultErrorMap });
  assert.equal(r.success, false);
  return r.success ? [] : issuesToErrors(r.error.issues, value, schema);
}

describe('messages where the schema gave none', () => {
  const schema = z.strictObject({
    tags: z.array(z.string()).max(2).optional(),
    exact: z.string().length(3).optional(),
    step: z.number().multipleOf(5).optional(),
    lt: z.number().lt(10).optional(),
    kind: z.literal('job').optional(),
    mode: z.enum(['a', 'b']).optional(),
    email: z.email().optional(),
    prefix: z.string().startsWith('x-').optional(),
    pattern: z.string().regex(/^\d+$/).optional(),
    either: z.union([z.number(), z.array(z.string())]).optional(),
    checked: z.string().refine((s) => s !== 'no').optional(),
    flag: z.boolean().optional(),
    inner: z.strictObject({ a: z.string(), b: z.number() }).optional(),
  });
  const cases: Array<[Record<string, unknown>, string, string]> = [
    [{ tags: ['a', 'b', 'c'] }, 'tags', 'expected at most 2 items, got 3 items'],
    [{ exact: 'abcd' }, 'exact', 'expected exactly 3 characters, got 4 characters'],
    [{ step: 7 }, 'step', 'expected a multiple of 5, got 7'],
    [{ lt: 10 }, 'lt', 'expected a number < 10, got 10'],
    [{ kind: 'task' }, 'kind', 'expected "job", got "task"'],
    [{ mode: 'c' }, 'mode', 'expected one of "a", "b", got "c"'],
    [{ email: 'nope' }, 'email', 'expected a valid email, got "nope"'],
    [{ prefix: 'y' }, 'prefix', 'expected text starting with "x-", got "y"'],
    [{ pattern: 'a1' }, 'pattern', 'expected text matching /^\\d+$/, got "a1"'],
    [{ either: 'x' }, 'either', 'expected a number or a list, got the string "x"'],
    [{ checked: 'no' }, 'checked', 'invalid value'],
    [{ flag: 'yes' }, 'flag', 'expected true or false, got the string "yes"'],
    [{ inner: [] }, 'inner', 'expected a map with the fields a, b, got an empty list'],
    [{ inner: { a: 'x' } }, 'inner.b', 'required'],
    [{ inner: { a: 'x', b: 1, bb: 2 } }, 'inner.bb', 'unknown field "bb"; expected one of: a, b'],
    [{ inner: { a: 'x', b: 1, c: 2 } }, 'inner.c', 'unknown field "c"; expected one of: a, b'],
  ];
  for (const [value, path, message] of cases) {
    test(`${path}: ${message}`, () => assert.deepEqual(errorsFor(schema, value)[0], { path, message }));
  }

  test('an unknown field is not suggested as itself when its near twin is present', () => {
    assert.deepEqual(errorsFor(schema, { inner: { a: 'x', b: 1, B: 2 } }), [{ path: 'inner.B', message: 'unknown field "B"; expected one of: a, b' }]);
  });

  test('a long string is cut short in messages', () => {
    assert.deepEqual(errorsFor(schema, { flag: 'y'.repeat(100) }),
      [{ path: 'flag', message: `expected true or false, got the string "${'y'.repeat(57)}"…` }]);
  });
});

describe('error helpers', () => {
  test('paths', () => {
    const cases: Array<[PropertyKey[], string]> = [
      [[], ''],
      [['tasks', 'build-app', 'needs', 0], 'tasks.build-app.needs[0]'],
      [['tasks', 'a', 'env', 'FOO_1'], 'tasks.a.env.FOO_1'],
      [['labels', 'app.kubernetes.io/name'], 'labels["app.kubernetes.io/name"]'],
      [['x', 'say "hi"', 2, 3], 'x["say \\"hi\\""][2][3]'],
      [['', 'a'], '[""].a'],
    ];
    for (const [path, text] of cases) {
      assert.equal(formatPath(path), text);
      assert.deepEqual(parsePath(text), path);
    }
  });

  test('edit distance counts a swap as one edit', () => {
    assert.equal(editDistance('nmae', 'name'), 1);
    assert.equal(editDistance('comand', 'command'), 1);
    assert.equal(editDistance('kitten', 'sitting'), 3);
    assert.equal(editDistance('', 'abc'), 3);
  });

  test('closest only suggests plausible typos', () => {
    const keys = ['command', 'image', 'needs', 'timeout', 'env', 'max'];
    assert.equal(closest('comand', keys), 'command');
    assert.equal(closest('IMAGE', keys), 'image');
    assert.equal(closest('timout', keys), 'timeout');
    assert.equal(closest('x', keys), undefined);
    assert.equal(closest('cmd', keys), undefined);
  });
});
