// Keeps docs/job-file.md true: its example job is valid and its sample errors are real.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseJob } from '../../src/spec/parse.js';

const doc = readFileSync(new URL('../../../docs/job-file.md', import.meta.url), 'utf8');
const blocks = (lang: string): string[] => [...doc.matchAll(new RegExp(`\`\`\`${lang}\\n([\\s\\S]*?)\`\`\``, 'g'))].map((m) => m[1]!);

test('the example job in docs/job-file.md is valid', () => {
  const r = parseJob(blocks('yaml')[0]!);
  assert.ok(r.ok, JSON.stringify(r));
  assert.deepEqual(Object.keys(r.spec.tasks), ['fetch', 'build', 'lint', 'test', 'publish']);
});

test('the retries snippet in docs/job-file.md is valid', () => {
  const snippet = blocks('yaml').find((b) => b.startsWith('retries:'))!.split('\n').map((l) => `    ${l}`).join('\n');
  const r = parseJob(`name: x\ntasks:\n  a:\n    command: [x]\n${snippet}`);
  assert.ok(r.ok, JSON.stringify(r));
  assert.deepEqual(r.spec.tasks.a?.retries, { limit: 3, backoff: { initial: '1s', factor: 2, max: '5m' } });
});

test('the container fields example in docs/job-file.md is valid', () => {
  const r = parseJob(`name: x\n${blocks('yaml').find((b) => b.startsWith('tasks:\n  app:'))!}`);
  assert.ok(r.ok, JSON.stringify(r));
  assert.deepEqual(r.spec.tasks.app?.outputs, [{ from: '/tmp/report', to: 'reports' }]);
});

test('the sample errors in docs/job-file.md are what parseJob reports', () => {
  const r = parseJob(`name: demo
tasks:
  a: {command: [x], timeout: soon}
  b: {command: [x], needs: [c]}
  c: {command: "echo hi", needs: [b, ghost]}
  d: {comand: [x]}
`);
  assert.ok(!r.ok);
  const shown = blocks('text')[0]!.split('\n').map((l) => l.trim()).filter(Boolean);
  assert.deepEqual(r.errors.map((e) => `${e.path}: ${e.message}`), shown);
});
