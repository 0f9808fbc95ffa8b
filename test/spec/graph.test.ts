import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { checkGraph, findCycles, MAX_CYCLES, topoOrder } from '../../src/spec/graph.js';
import { parseJob } from '../../src/spec/parse.js';

/** A task map from "name: need need" shorthand. */
function tasks(spec: Record<string, string>): Record<string, { command: string[]; needs: string[] }> {
  return Object.fromEntries(Object.entries(spec).map(([name, needs]) => [name, { command: ['x'], needs: needs.split(' ').filter(Boolean) }]));
}

describe('checkGraph', () => {
  test('a DAG has no errors', () => {
    assert.deepEqual(checkGraph(tasks({ a: '', b: 'a', c: 'a', d: 'b c', e: 'd a' })), []);
  });

  test('unknown, self, duplicate needs', () => {
    assert.deepEqual(checkGraph(tasks({ build: '', test: 'buld ghost test build build' })), [
      { path: 'tasks.test.needs[0]', message: 'no task "buld"; did you mean "build"?' },
      { path: 'tasks.test.needs[1]', message: 'no task "ghost"' },
      { path: 'tasks.test.needs[2]', message: 'task "test" cannot need itself' },
      { path: 'tasks.test.needs[4]', message: '"build" is already listed at needs[3]' },
    ]);
  });

  test('each cycle once, starting at its first task by name', () => {
    assert.deepEqual(checkGraph(tasks({ d: 'b', c: 'b', b: 'c d', a: 'a' })), [
      { path: 'tasks.a.needs[0]', message: 'task "a" cannot need itself' },
      { path: 'tasks.b.needs', message: 'dependency cycle: b → c → b' },
      { path: 'tasks.b.needs', message: 'dependency cycle: b → d → b' },
    ]);
    assert.deepEqual(checkGraph(tasks({ x: 'y', y: 'z', z: 'x y' })), [
      { path: 'tasks.x.needs', message: 'dependency cycle: x → y → z → x' },
      { path: 'tasks.y.needs', message: 'dependency cycle: y → z → y' },
    ]);
  });

  test('a dense graph lists the first cycles and says there are more', () => {
    const names = ['a', 'b', 'c', 'd', 'e', 'f'];
    const complete = Object.fromEntries(names.map((n) => [n, names.filter((m) => m !== n).join(' ')]));
    const errors = checkGraph(tasks(complete));
    assert.equal(errors.length, MAX_CYCLES + 1);
    assert.deepEqual(errors[0], { path: 'tasks.a.needs', message: 'dependency cycle: a → b → a' });
    assert.deepEqual(errors[1], { path: 'tasks.a.needs', message: 'dependency cycle: a → b → c → a' });
    assert.deepEqual(errors.at(-1), { path: 'tasks', message: `more dependency cycles not listed (only the first ${MAX_CYCLES} are)` });
  });

  test('finds exactly the simple cycles a brute-force search finds', () => {
    // Every simple cycle, rotated to start at its least node, by trying all paths.
    const brute = (graph: Map<string, string[]>): string[][] => {
      const out: string[][] = [];
      const walk = (start: string, path: string[]): void => {
        for (const w of [...new Set(graph.get(path[path.length - 1]!) ?? [])].sort()) {
          if (w === start) out.push([...path]);
          else if (w > start && !path.includes(w)) walk(start, [...path, w]);
        }
      };
      for (const s of [...graph.keys()].sort()) walk(s, [s]);
      return out;
    };
    const arbGraph = fc.integer({ min: 1, max: 6 }).chain((n) => {
      const names = 'abcdef'.slice(0, n).split('');
      return fc.tuple(...names.map(() => fc.subarray(names))).map((needs) =>
        new Map(names.map((name, i) => [name, needs[i]!.filter((d) => d !== name)])));
    });
    fc.assert(fc.property(arbGraph, (graph) => {
      const expected = brute(graph);
      const { cycles, more } = findCycles(graph, 1000);
      assert.equal(more, false);
      assert.deepEqual([...cycles].sort(), [...expected].sort());
      assert.deepEqual(cycles.map((c) => c[0]), expected.map((c) => c[0]));
    }), { numRuns: 300 });
  });

  test('a cycle through thousands of tasks does not overflow the stack', () => {
    const n = 20_000;
    const name = (i: number): string => `t${String(i).padStart(5, '0')}`;
    const graph = new Map(Array.from({ length: n }, (_, i) => [name(i), [name((i + 1) % n)]] as [string, string[]]));
    const { cycles, more } = findCycles(graph);
    assert.equal(more, false);
    assert.equal(cycles.length, 1);
    assert.equal(cycles[0]!.length, n);
    assert.equal(cycles[0]![n - 1], name(n - 1));
  });

  test('ignores what the schema reports: non-list needs, non-string entries, non-map tasks', () => {
    assert.deepEqual(checkGraph({ a: { needs: 'b' }, b: 5, c: { needs: [1, null, 'a'] } }), []);
  });

  test('runs alongside schema errors in parseJob', () => {
    const r = parseJob({ name: 'x', tasks: { a: { command: 'x', needs: ['b'] }, b: { needs: ['a'] } } });
    assert.deepEqual(r.ok ? [] : r.errors, [
      { path: 'tasks.a.command', message: 'expected a list of strings, e.g. ["sh", "-c", "echo hi"], got the string "x"' },
      { path: 'tasks.a.needs', message: 'dependency cycle: a → b → a' },
      { path: 'tasks.b.command', message: 'required' },
    ]);
  });
});

describe('topoOrder', () => {
  test('dependencies first, ties in map order', () => {
    assert.deepEqual(topoOrder(tasks({ publish: 'test', test: 'build lint', lint: 'fetch', build: 'fetch', fetch: '' })),
      ['fetch', 'lint', 'build', 'test', 'publish']);
    assert.deepEqual(topoOrder({ b: {}, a: {}, c: { needs: ['a', 'a'] } }), ['b', 'a', 'c']);
  });

  test('throws on a cycle', () => {
    assert.throws(() => topoOrder(tasks({ a: 'b', b: 'a', c: '' })), { message: 'dependency cycle among: a, b' });
  });
});
