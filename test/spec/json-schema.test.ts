import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { JOB_SCHEMA_ID, jobJsonSchema } from '../../src/spec/json-schema.js';
import { taskSchema } from '../../src/spec/schema.js';

// Compiled to dist/test/spec/, three levels below the repository.
const DOC = new URL('../../../docs/job-schema.json', import.meta.url);

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => {
  assert.equal(typeof v, 'object');
  return v as Json;
};

describe('jobJsonSchema', () => {
  test('docs/job-schema.json is the generated schema', () => {
    assert.equal(readFileSync(DOC, 'utf8'), `${JSON.stringify(jobJsonSchema(), null, 2)}\n`,
      'docs/job-schema.json is stale: run `npx tsc -p tsconfig.json && node scripts/write-job-schema.mjs`');
  });

  test('identifies itself as draft 2020-12 with an id and title', () => {
    const s = jobJsonSchema();
    assert.deepEqual(Object.keys(s).slice(0, 4), ['$schema', '$id', 'title', 'description']);
    assert.equal(s.$schema, 'https://json-schema.org/draft/2020-12/schema');
    assert.equal(s.$id, JOB_SCHEMA_ID);
    assert.equal(s.title, 'Wharf job');
  });

  test('closed objects, required fields and descriptions', () => {
    const s = jobJsonSchema();
    assert.equal(s.additionalProperties, false);
    assert.deepEqual(s.required, ['name', 'tasks']);
    const tasks = obj(obj(s.properties).tasks);
    assert.equal(tasks.minProperties, 1);
    assert.deepEqual(obj(tasks.propertyNames).pattern, '^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$');
    const task = obj(tasks.additionalProperties);
    assert.equal(task.additionalProperties, false);
    assert.deepEqual(task.required, ['command']);
    const props = obj(task.properties);
    assert.deepEqual(Object.keys(props), Object.keys(taskSchema.shape));
    assert.equal(obj(props.timeout).description, 'Wall-clock limit of one attempt.');
    assert.deepEqual(obj(props.timeout).examples, ['30s', '5m', '1h']);
    assert.deepEqual(obj(obj(props.env).propertyNames).not, { pattern: '^WHARF_' });
    const backoff = obj(obj(obj(props.retries).properties).backoff);
    assert.equal(backoff.additionalProperties, false);
    assert.equal(obj(obj(backoff.properties).initial).description, 'Delay before the first retry (default "1s").');
  });

  test('is a fresh object each time', () => {
    const a = jobJsonSchema();
    a.title = 'changed';
    assert.equal(jobJsonSchema().title, 'Wharf job');
  });
});
