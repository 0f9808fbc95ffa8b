import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { withAbsolutePaths } from '../../src/cli/read-source.js';

describe('withAbsolutePaths', () => {
  it('resolves build contexts, input sources and output targets against the job file', () => {
    const text = 'name: j\ntasks:\n  a:\n    command: [x]\n    build: {context: ctx}\n    inputs: [{from: ../in, to: /in}, {from: /abs, to: /in2}]\n    outputs: [{from: /out, to: out}]\n';
    const r = withAbsolutePaths({ text, format: 'yaml' }, '/home/u/jobs');
    assert.equal(r.format, 'json');
    const a = (JSON.parse(r.text) as { tasks: { a: Record<string, unknown> } }).tasks.a;
    assert.deepEqual(a.build, { context: '/home/u/jobs/ctx' });
    assert.deepEqual(a.inputs, [{ from: '/home/u/in', to: '/in' }, { from: '/abs', to: '/in2' }]);
    assert.deepEqual(a.outputs, [{ from: '/out', to: '/home/u/jobs/out' }]);
  });

  it('leaves a file alone when nothing is relative or it has errors (the server places them)', () => {
    for (const text of ['name: j\ntasks: {a: {command: [x]}}\n', 'name: j\ntasks: {a: {command: 3, build: {context: x}}}\n']) {
      assert.deepEqual(withAbsolutePaths({ text, format: 'yaml' }, '/b'), { text, format: 'yaml' });
    }
  });
});
