import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ErrorDetail } from '../../src/spec/api.js';
import { MAX_ERRORS, parseJob, type ParseResult } from '../../src/spec/parse.js';

function errorsOf(r: ParseResult): ErrorDetail[] {
  assert.equal(r.ok, false, 'expected the job to be rejected');
  return r.ok ? [] : r.errors;
}

/** A job with one task `a` whose fields are `task`, to test one field at a time. */
function withTask(task: Record<string, unknown>, job: Record<string, unknown> = {}): ParseResult {
  return parseJob({ name: 'j', tasks: { a: { command: ['true'], ...task } }, ...job });
}

function only(r: ParseResult): ErrorDetail {
  const errors = errorsOf(r);
  assert.equal(errors.length, 1, JSON.stringify(errors));
  return errors[0]!;
}

const DAG_YAML = `# five tasks: fetch → (build, lint) → test → publish
name: release
labels:
  team: platform
tasks:
  fetch:
    command: [git, clone, https://example.com/repo.git]
    image: alpine/git
  build:
    command: [make, build]
    needs: [fetch]
    timeout: 10m
    resources: {cpu: "500m", memory: 1Gi}
  lint:
    command: [make, lint]
    needs: [fetch]
  test:
    command: [make, test]
    needs: [build, lint]
    retries:
      limit: 2
      backoff: {initial: 2s, factor: 3, max: 1m}
  publish:
    command: [sh, -c, 'echo "publishing $VERSION"']
    needs: [test]
    env:
      VERSION: "1.0"
`;

describe('parseJob: valid input', () => {
  test('a five-task DAG in YAML parses to the spec', () => {
    const r = parseJob(DAG_YAML);
    assert.ok(r.ok, JSON.stringify(r));
    assert.deepEqual(Object.keys(r.spec.tasks), ['fetch', 'build', 'lint', 'test', 'publish']);
    assert.deepEqual(r.spec.labels, { team: 'platform' });
    assert.deepEqual(r.spec.tasks.test, {
      command: ['make', 'test'], needs: ['build', 'lint'], retries: { limit: 2, backoff: { initial: '2s', factor: 3, max: '1m' } },
    });
    assert.deepEqual(r.spec.tasks.build?.resources, { cpu: '500m', memory: '1Gi' });
    assert.deepEqual(r.spec.tasks.publish?.command, ['sh', '-c', 'echo "publishing $VERSION"']);
  });

  test('the same job as JSON text, guessed and explicit, and as a parsed value', () => {
    const yaml = parseJob(DAG_YAML);
    assert.ok(yaml.ok);
    const json = JSON.stringify(yaml.spec, null, 2);
    assert.deepEqual(parseJob(json), yaml);
    assert.deepEqual(parseJob(json, { format: 'json' }), yaml);
    assert.deepEqual(parseJob(json, { format: 'yaml' }), yaml);
    assert.deepEqual(parseJob(JSON.parse(json)), yaml);
  });

  test('unicode in env values is kept exactly', () => {
    const value = 'héllo wörld 🚀 日本語 \u00a0tab\there';
    const r = parseJob(`name: x\ntasks:\n  a:\n    command: [env]\n    env:\n      GREETING: "${value.replace('\t', '\\t')}"\n`);
    assert.ok(r.ok, JSON.stringify(r));
    assert.equal(r.spec.tasks.a?.env?.GREETING, value);
  });

  test('YAML 1.2: yes/no stay strings, 1.1 tags are not resolved', () => {
    const r = parseJob('name: x\ntasks:\n  a:\n    command: [x]\n    env: {A: yes, B: !!binary aGk=, C: "007"}\n');
    assert.ok(r.ok, JSON.stringify(r));
    assert.deepEqual(r.spec.tasks.a?.env, { A: 'yes', B: 'aGk=', C: '007' });
  });

  test('a byte order mark and a flow-style YAML document are accepted', () => {
    assert.ok(parseJob('\uFEFFname: x\ntasks: {a: {command: [x]}}').ok);
    const flow = parseJob('{name: x, tasks: {a: {command: [x]}}}');
    assert.ok(flow.ok, JSON.stringify(flow));
  });
});

describe('parseJob: every error at once', () => {
  test('bad duration, unknown need, wrong type and a cycle come together, in document order', () => {
    const r = parseJob(`name: demo
tasks:
  a: {command: [x], timeout: soon}
  b: {command: [x], needs: [c]}
  c: {command: "echo hi", needs: [b, ghost]}
`);
    assert.deepEqual(errorsOf(r), [
      { path: 'tasks.a.timeout', message: 'expected a duration such as "30s", got "soon"' },
      { path: 'tasks.b.needs', message: 'dependency cycle: b → c → b' },
      { path: 'tasks.c.command', message: 'expected a list of strings, e.g. ["sh", "-c", "echo hi"], got the string "echo hi"' },
      { path: 'tasks.c.needs[1]', message: 'no task "ghost"' },
    ]);
  });

  test('a need that is not a valid name is reported by the schema only', () => {
    assert.deepEqual(errorsOf(withTask({ needs: ['Nope'] })), [{
      path: 'tasks.a.needs[0]',
      message: 'expected a task name of lowercase letters, digits and "-" (at most 63, starting and ending alphanumeric), got "Nope"',
    }]);
  });
});

describe('parseJob: unknown fields', () => {
  test('did you mean, in a task', () => {
    const r = parseJob({ name: 'j', tasks: { a: { comand: ['x'] } } });
    assert.deepEqual(errorsOf(r), [
      { path: 'tasks.a.comand', message: 'unknown field "comand"; did you mean "command"?' },
      { path: 'tasks.a.command', message: 'required' },
    ]);
  });

  test('did you mean, at the top level and deep down', () => {
    assert.deepEqual(errorsOf(parseJob('name: j\ntaks:\n  a: {command: [x]}\n')), [
      { path: 'taks', message: 'unknown field "taks"; did you mean "tasks"?' },
      { path: 'tasks', message: 'required' },
    ]);
    assert.deepEqual(only(withTask({ retries: { limit: 1, backof: {} } })),
      { path: 'tasks.a.retries.backof', message: 'unknown field "backof"; did you mean "backoff"?' });
    assert.deepEqual(only(withTask({ Timeout: '1s' })),
      { path: 'tasks.a.Timeout', message: 'unknown field "Timeout"; did you mean "timeout"?' });
  });

  test('no close match lists the fields; one error per key', () => {
    assert.deepEqual(errorsOf(withTask({ x: 1, shell: 'bash' })), [
      { path: 'tasks.a.x', message: 'unknown field "x"; expected one of: command, image, backend, env, needs, timeout, retries, workingDir, resources, build, user, network, capabilities, privileged, writableRootfs, inputs, outputs, secrets, features' },
      { path: 'tasks.a.shell', message: 'unknown field "shell"; expected one of: command, image, backend, env, needs, timeout, retries, workingDir, resources, build, user, network, capabilities, privileged, writableRootfs, inputs, outputs, secrets, features' },
    ]);
    assert.deepEqual(only(withTask({ retries: { limit: 1, backoff: { x: 1 } } })),
      { path: 'tasks.a.retries.backoff.x', message: 'unknown field "x"; expected one of: initial, factor, max' });
  });

  test('a field that is already present is not suggested', () => {
    assert.deepEqual(only(withTask({ comand: ['y'] })),
      { path: 'tasks.a.comand', message: 'unknown field "comand"; expected one of: command, image, backend, env, needs, timeout, retries, workingDir, resources, build, user, network, capabilities, privileged, writableRootfs, inputs, outputs, secrets, features' });
  });

  test('"__proto__" is an unknown field, not a prototype', () => {
    for (const text of ['{"__proto__": {"polluted": true}, "name": "x", "tasks": {"a": {"command": ["x"]}}}',
      '__proto__: {polluted: true}\nname: x\ntasks: {a: {command: [x]}}']) {
      assert.deepEqual(only(parseJob(text)), { path: '__proto__', message: 'unknown field "__proto__"; expected one of: name, labels, tasks' });
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
    }
  });
});

describe('parseJob: messages for each kind of issue', () => {
  const cases: Array<[string, Record<string, unknown>, ErrorDetail]> = [
    ['wrong type (list)', { command: 'echo hi' }, { path: 'tasks.a.command', message: 'expected a list of strings, e.g. ["sh", "-c", "echo hi"], got the string "echo hi"' }],
    ['wrong element type', { command: ['echo', 5] }, { path: 'tasks.a.command[1]', message: 'expected a string, got the number 5' }],
    ['empty list', { command: [] }, { path: 'tasks.a.command', message: 'expected at least the program to run, got an empty list' }],
    ['enum', { backend: 'dockr' }, { path: 'tasks.a.backend', message: 'expected one of local, docker, kubernetes, got "dockr"' }],
    ['duration', { timeout: '5 minutes' }, { path: 'tasks.a.timeout', message: 'expected a duration such as "30s", got "5 minutes"' }],
    ['duration of the wrong type', { timeout: 30 }, { path: 'tasks.a.timeout', message: 'expected a duration such as "30s", got the number 30' }],
    ['null', { timeout: null }, { path: 'tasks.a.timeout', message: 'expected a duration such as "30s", got null' }],
    ['env value', { env: { N: 1 } }, { path: 'tasks.a.env.N', message: 'expected a string, got number 1 (quote numbers and booleans in YAML)' }],
    ['env key format', { env: { 'my-var': 'x' } }, { path: 'tasks.a.env.my-var', message: 'expected an environment variable name (letters, digits, "_"), got "my-var"' }],
    ['env key reserved', { env: { WHARF_JOB: 'x' } }, { path: 'tasks.a.env.WHARF_JOB', message: 'names starting with WHARF_ are reserved for Wharf' }],
    ['env not a map', { env: ['A=1'] }, { path: 'tasks.a.env', message: 'expected a map, got a list' }],
    ['int', { retries: { limit: 1.5 } }, { path: 'tasks.a.retries.limit', message: 'expected a whole number from 0 to 100, got the number 1.5' }],
    ['int too big', { retries: { limit: 101 } }, { path: 'tasks.a.retries.limit', message: 'expected a whole number from 0 to 100, got 101' }],
    ['missing nested field', { retries: {} }, { path: 'tasks.a.retries.limit', message: 'required' }],
    ['number too small', { retries: { limit: 1, backoff: { factor: 0.5 } } }, { path: 'tasks.a.retries.backoff.factor', message: 'expected a number ≥ 1, got 0.5' }],
    ['object of the wrong type', { retries: 3 }, { path: 'tasks.a.retries', message: 'expected a map with the fields limit, backoff, got the number 3' }],
    ['union, no branch of the type', { resources: { cpu: true } }, { path: 'tasks.a.resources.cpu', message: 'expected CPUs such as 0.5, "2" or "500m", got true' }],
    ['union, string branch', { resources: { cpu: 'lots' } }, { path: 'tasks.a.resources.cpu', message: 'expected CPUs such as 0.5, "2" or "500m", got "lots"' }],
    ['union, number branch', { resources: { cpu: -1 } }, { path: 'tasks.a.resources.cpu', message: 'expected CPUs such as 0.5, "2" or "500m", got -1' }],
    ['memory', { resources: { memory: '1GB' } }, { path: 'tasks.a.resources.memory', message: 'expected a memory size such as "512Mi" or "1Gi", got "1GB"' }],
    ['zod default: string', { image: 5 }, { path: 'tasks.a.image', message: 'expected a string, got the number 5' }],
    ['zod default: empty string', { workingDir: '' }, { path: 'tasks.a.workingDir', message: 'expected a non-empty string, got an empty string' }],
    ['schema message: empty string', { image: '' }, { path: 'tasks.a.image', message: 'expected an image reference, got an empty string' }],
  ];
  for (const [name, task, expected] of cases) {
    test(name, () => assert.deepEqual(only(withTask(task)), expected));
  }

  test('job-level fields', () => {
    assert.deepEqual(only(parseJob({ tasks: { a: { command: ['x'] } } })), { path: 'name', message: 'required' });
    assert.deepEqual(only(parseJob({ name: 'n'.repeat(129), tasks: { a: { command: ['x'] } } })),
      { path: 'name', message: 'expected at most 128 characters, got 129 characters' });
    assert.deepEqual(only(parseJob({ name: 7, tasks: { a: { command: ['x'] } } })),
      { path: 'name', message: 'expected a job name, got the number 7' });
    assert.deepEqual(only(parseJob({ name: 'x', tasks: {} })), { path: 'tasks', message: 'expected at least one task' });
    assert.deepEqual(only(parseJob({ name: 'x', tasks: [] })), { path: 'tasks', message: 'expected a map of task name → task, got an empty list' });
  });

  test('record keys: the error points at the key', () => {
    assert.deepEqual(only(parseJob({ name: 'x', tasks: { a: { command: ['x'] }, Bad_Name: { command: ['x'] } } })), {
      path: 'tasks.Bad_Name',
      message: 'expected a task name of lowercase letters, digits and "-" (at most 63, starting and ending alphanumeric), got "Bad_Name"',
    });
    assert.deepEqual(only(withTask({}, { labels: { 'has space': 'v' } })),
      { path: 'labels["has space"]', message: 'expected a label key (letters, digits, ".", "_", "/", "-"; at most 63), got "has space"' });
    assert.deepEqual(only(withTask({}, { labels: { 'app.kubernetes.io/name': 'v'.repeat(64) } })),
      { path: 'labels["app.kubernetes.io/name"]', message: 'expected at most 63 characters, got 64 characters' });
  });

  test('a document that is not a map', () => {
    for (const [input, got] of [[null, 'null'], [[], 'an empty list'], ['- a\n- b', 'a list'], ['just words', 'the string "just words"']] as const) {
      assert.deepEqual(only(parseJob(input)), { path: '', message: `expected a map with the fields name, labels, tasks, got ${got}` });
    }
  });
});

describe('parseJob: values no job file can hold', () => {
  // Found by fuzzing (test/fuzz): a bigint made parseJob throw, a symbol or NaN made "undefined" or "null".
  test('a bigint, a symbol, NaN or Infinity is described, not thrown or shown as null', () => {
    assert.deepEqual(only(withTask({ backend: 10n })), { path: 'tasks.a.backend', message: 'expected one of local, docker, kubernetes, got a bigint' });
    assert.deepEqual(only(withTask({ backend: [1n] })), { path: 'tasks.a.backend', message: 'expected one of local, docker, kubernetes, got a list' });
    assert.deepEqual(only(withTask({ backend: Symbol('s') })), { path: 'tasks.a.backend', message: 'expected one of local, docker, kubernetes, got a symbol' });
    assert.deepEqual(only(withTask({ env: { A: 1n } })), { path: 'tasks.a.env.A', message: 'expected a string, got a bigint (quote numbers and booleans in YAML)' });
    assert.deepEqual(only(withTask({ env: { A: NaN } })), { path: 'tasks.a.env.A', message: 'expected a string, got number NaN (quote numbers and booleans in YAML)' });
    assert.deepEqual(only(parseJob('name: x\ntasks: {a: {command: [x], env: {A: .inf}}}')),
      { path: 'tasks.a.env.A', message: 'expected a string, got number Infinity (quote numbers and booleans in YAML)' });
  });
});

describe('parseJob: size limits', () => {
  test('arguments, env values, the environment and tasks are bounded, each named', () => {
    const big = 'x'.repeat(128 * 1024 + 1);
    assert.deepEqual(only(withTask({ command: ['sh', big] })), { path: 'tasks.a.command[1]', message: 'expected an argument of at most 128 KiB' });
    assert.deepEqual(only(withTask({ env: { A: 'é'.repeat(64 * 1024 + 1) } })), { path: 'tasks.a.env.A', message: 'expected an env value of at most 128 KiB' });
    assert.deepEqual(only(withTask({ command: Array.from({ length: 4097 }, () => 'x') })), { path: 'tasks.a.command', message: 'expected at most 4096 arguments, got 4097 items' });
    const env = Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`V${i}`, 'x'.repeat(120 * 1024)]));
    assert.deepEqual(only(withTask({ env })), { path: 'tasks.a.env', message: 'expected at most 1 MiB of environment in all' });
    const tasks = Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`t${i}`, { command: ['true'] }]));
    assert.deepEqual(only(parseJob({ name: 'big', tasks })), { path: 'tasks', message: 'expected at most 1000 tasks in one job' });
    assert.equal(parseJob({ name: 'ok', tasks: Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`t${i}`, { command: ['true'] }])) }).ok, true);
  });
});

describe('parseJob: syntax', () => {
  const cases: Array<[string, string, 'json' | 'yaml' | undefined, string]> = [
    ['JSON', '{"name": "x",\n  "tasks": }', undefined, 'line 2, column 12: unexpected "}"; expected a value'],
    ['JSON trailing comma (not read leniently as YAML)', '{"name": "x", "tasks": {"a": {"command": ["x"],}}}', undefined,
      'line 1, column 48: unexpected "}"; expected a field name in double quotes'],
    ['JSON duplicate key', '{"name": "x",\n "name": "y"}', undefined, 'line 2, column 2: duplicate key "name"'],
    ['JSON unterminated string', '{"name": "x', undefined, 'line 1, column 10: unterminated string'],
    ['JSON raw newline in a string', '{"name": "a\nb"}', undefined, 'line 1, column 12: control character in a string (write a newline as \\n)'],
    ['JSON text after the value', '{"name": "x"} {}', undefined, 'line 1, column 15: unexpected "{" after the end of the JSON value'],
    ['YAML as JSON', 'name: x\n', 'json', 'line 1, column 1: unexpected "n"; expected a value'],
    ['empty JSON', '  ', 'json', 'line 1, column 3: unexpected end of input; expected a value'],
    ['YAML', 'name: x\ntasks:\n  a: {command: [x]\n', undefined, 'line 4, column 1: Flow map in block collection must be sufficiently indented and end with a }'],
    ['YAML duplicate key', 'name: x\ntasks:\n  a:\n    command: [x]\n    command: [y]\n', undefined, 'line 5, column 5: duplicate key "command"'],
    ['YAML tab indentation', 'name: x\ntasks:\n\ta: {}\n', undefined, 'line 3, column 1: Tabs are not allowed as indentation'],
    ['several YAML documents', 'name: x\n---\nname: y\n', undefined, 'line 2, column 1: expected one YAML document, but another one starts here'],
    ['empty YAML', '# nothing here\n', undefined, 'expected a job, got an empty document'],
  ];
  for (const [name, text, format, message] of cases) {
    test(name, () => assert.deepEqual(errorsOf(parseJob(text, format ? { format } : {})), [{ path: '', message }]));
  }
});

describe('parseJob: hostile input', () => {
  // No timed assertions (bench/ measures speed); a blow-up would hit the test's timeout.
  test('a YAML alias bomb is rejected', { timeout: 30_000 }, () => {
    let bomb = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n';
    let prev = 'a';
    for (const c of 'bcdefghi') {
      bomb += `${c}: &${c} [${Array(9).fill(`*${prev}`).join(',')}]\n`;
      prev = c;
    }
    const r = parseJob(bomb);
    assert.deepEqual(errorsOf(r), [{ path: '', message: 'too many aliases: expanding them would make the document too large' }]);
  });

  test('a few aliases are fine', () => {
    const r = parseJob('name: x\ntasks:\n  a: {command: &cmd [make], env: &env {A: "1"}}\n  b: {command: *cmd, env: *env}\n');
    assert.ok(r.ok, JSON.stringify(r));
    assert.deepEqual(r.spec.tasks.b, { command: ['make'], env: { A: '1' } });
  });

  test('merge keys share settings between tasks', () => {
    const r = parseJob('name: x\ntasks:\n  a: &base {image: alpine, command: [x], env: {A: "1"}}\n  b: {<<: *base, command: [y]}\n');
    assert.ok(r.ok, JSON.stringify(r));
    assert.deepEqual(r.spec.tasks.b, { image: 'alpine', command: ['y'], env: { A: '1' } });
    assert.notEqual(r.spec.tasks.b?.env, r.spec.tasks.a?.env, 'validated output shares no objects');
  });

  test('deep nesting is refused before it reaches a recursive parser', () => {
    // Warm up first: the yaml package survives deep input cold but can crash the process once JIT-compiled.
    for (let i = 0; i < 50; i++) parseJob(DAG_YAML);
    const n = 100_000;
    const cases: Array<[string, string]> = [
      [`a: ${'['.repeat(n)}${']'.repeat(n)}`, 'line 1, column 67: nested more than 64 levels deep'],
      [`${'- '.repeat(n)}1`, 'line 1, column 129: nested more than 64 levels deep'],
      ['['.repeat(n), 'line 1, column 65: nested more than 64 levels deep'],
      [`{"a": ${'['.repeat(n)}`, 'line 1, column 70: nested more than 64 levels deep'],
      [`${Array.from({ length: 100 }, (_, i) => `${' '.repeat(i)}-`).join('\n')} 1`, 'line 65, column 65: nested more than 64 levels deep'],
    ];
    for (const [text, message] of cases) assert.deepEqual(errorsOf(parseJob(text)), [{ path: '', message }]);
  });

  test('64 levels are allowed, 65 are not', () => {
    const nest = (n: number): unknown => (n === 0 ? 'x' : [nest(n - 1)]);
    // job, tasks and task a are three levels, so 61 lists make 64.
    assert.deepEqual(errorsOf(parseJob({ name: 'x', tasks: { a: { command: nest(61) } } })),
      [{ path: 'tasks.a.command[0]', message: 'expected a string, got a list' }]);
    assert.deepEqual(errorsOf(parseJob({ name: 'x', tasks: { a: { command: nest(62) } } })), [{ path: '', message: 'nested more than 64 levels deep' }]);
    // {"name":"x","tasks":{"a":{"command": is 36 characters; list 62 is level 65.
    assert.deepEqual(errorsOf(parseJob(JSON.stringify({ name: 'x', tasks: { a: { command: nest(62) } } }))),
      [{ path: '', message: 'line 1, column 98: nested more than 64 levels deep' }]);
  });

  test('thousands of errors are listed up to a limit', { timeout: 30_000 }, () => {
    const job: Record<string, unknown> = { name: 'x', tasks: {} };
    const tasks = job.tasks as Record<string, unknown>;
    for (let i = 0; i < 20_000; i++) {
      job[`extra${i}`] = i;
      tasks[`t${i}`] = { command: ['x'], needs: [`missing${i}`] };
    }
    const errors = errorsOf(parseJob(job));
    assert.equal(errors.length, MAX_ERRORS + 1);
    assert.deepEqual(errors[0], { path: 'tasks', message: 'expected at most 1000 tasks in one job' });
    assert.deepEqual(errors[1], { path: 'tasks.t0.needs[0]', message: 'no task "missing0"' });
    assert.deepEqual(errors.at(-1), { path: '', message: `${40_001 - MAX_ERRORS} more errors not listed` });
  });

  // Found by fuzzing (test/fuzz): the yaml package throws on these after composing, which the
  // HTTP API answered with a 500.
  test('a merge key whose value is not a map is refused at its place', () => {
    const cases: Array<[string, string]> = [
      ['name: x\ntasks:\n  a:\n    <<: 5\n    command: [x]\n', 'line 4, column 9'],
      ['name: x\ntasks:\n  a:\n    <<: ~\n    command: [x]\n', 'line 4, column 9'],
      ['name: x\ntasks:\n  a:\n    <<: [{image: i}, 1]\n    command: [x]\n', 'line 4, column 9'],
      ['list: &l [1]\nname: x\ntasks: {a: {<<: *l, command: [x]}}\n', 'line 3, column 17'],
    ];
    for (const [text, place] of cases) {
      assert.deepEqual(errorsOf(parseJob(text)), [{ path: '', message: `${place}: a merge key "<<" takes a map, an alias of a map, or a list of those` }]);
    }
    const ok = parseJob('base: &b {image: i}\nname: x\ntasks: {a: {<<: [*b, {env: {A: "1"}}], command: [x]}}\n');
    assert.deepEqual(errorsOf(ok), [{ path: 'base', message: 'unknown field "base"; expected one of: name, labels, tasks' }]);
  });

  test('an alias is named when no anchor comes before it (not taken for an alias bomb)', () => {
    assert.deepEqual(errorsOf(parseJob('name: *nope\ntasks: {a: {command: [x]}}\n')),
      [{ path: '', message: 'line 1, column 7: no anchor &nope before the alias *nope' }]);
    assert.deepEqual(errorsOf(parseJob('name: x\ntasks:\n  a: {<<: *later, command: [x]}\n  b: &later {image: i}\n')),
      [{ path: '', message: 'line 3, column 11: no anchor &later before the alias *later' }]);
  });

  test('a map key that is a list is an unknown field, with no process warning', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error): void => {
      warnings.push(w.message);
    };
    process.on('warning', onWarning);
    try {
      assert.deepEqual(errorsOf(parseJob('? [a]\n: b\nname: x\ntasks: {a: {command: [x]}}\n')),
        [{ path: '["[ a ]"]', message: 'unknown field "[ a ]"; expected one of: name, labels, tasks' }]);
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
    }
    assert.deepEqual(warnings, []);
  });

  test('a YAML map of many keys is read (the yaml package\'s own check is quadratic); a duplicate among them is still found', { timeout: 30_000 }, () => {
    // The yaml package's own duplicate-key check is quadratic: 40,000 keys took seconds.
    const lines = Array.from({ length: 40_000 }, (_, i) => `      K${i}: v\n`);
    const env = lines.join('');
    const text = `name: x\ntasks:\n  a:\n    command: [x]\n    env:\n${env}`;
    const r = parseJob(text);
    assert.ok(r.ok, JSON.stringify(r).slice(0, 300));
    assert.equal(Object.keys(r.spec.tasks.a?.env ?? {}).length, 40_000);
    assert.deepEqual(errorsOf(parseJob(`name: x\ntasks:\n  a:\n    command: [x]\n    env:\n${lines.slice(0, 100).join('')}      K7: w\n`)),
      [{ path: '', message: 'line 106, column 7: duplicate key "K7"' }]);
    // The first duplicate in the text, in whichever map.
    assert.deepEqual(errorsOf(parseJob('name: x\ntasks:\n  a: {command: [x], image: i, image: j}\nname: y\n')),
      [{ path: '', message: 'line 3, column 31: duplicate key "image"' }]);
  });

  test('self-referencing values are refused, from YAML or from code', () => {
    assert.deepEqual(errorsOf(parseJob('name: &n [*n]\ntasks: {a: {command: [x]}}')), [{ path: '', message: 'nested more than 64 levels deep' }]);
    const job: Record<string, unknown> = { name: 'x' };
    job.tasks = { a: { command: ['x'], env: job } };
    assert.deepEqual(errorsOf(parseJob(job)), [{ path: '', message: 'nested more than 64 levels deep' }]);
  });
});
