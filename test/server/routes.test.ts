// The plain (non-streaming) routes through app.inject; every answer is checked against the
// schema the route table declares for its status.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { JobList, JobView, LogPage } from '../../src/spec/api.js';
import { openApiPath } from '../../src/server/openapi.js';
import { responsesOf, ROUTES } from '../../src/server/routes.js';
import type { AddressInfo } from 'node:net';
import { WharfService } from '../../src/api/service.js';
import { buildApp } from '../../src/server/app.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/types.js';
import { checkAnswer, JOB_JSON, JOB_YAML, log, parseSse, readStream, setup, startTask, succeed, type Setup } from './helpers.js';

type ErrorAnswer = { error: { code: string; message: string; details: { path: string; message: string }[] } };

const T = { timeout: 10_000 };

describe('server routes', () => {
  let s: Setup;
  let ready = true;
  before(async () => {
    s = await setup({ bodyLimit: 4096, ready: () => ready });
  });
  after(async () => {
    await s.close();
  });

  const post = (url: string, body: string, type: string) =>
    s.app.inject({ method: 'POST', url, payload: body, headers: { 'content-type': type } });

  test('health and ready', T, async () => {
    const h = await s.app.inject({ url: '/health' });
    assert.equal(h.statusCode, 200);
    assert.deepEqual(checkAnswer('health', h), { status: 'ok' });
    assert.equal((await s.app.inject({ url: '/ready' })).statusCode, 200);
    ready = false;
    const r = await s.app.inject({ url: '/ready' });
    ready = true;
    assert.equal(r.statusCode, 503);
    assert.equal((checkAnswer('ready', r) as ErrorAnswer).error.code, 'unavailable');
  });

  test('submit JSON answers 201 with the job', T, async () => {
    const res = await post('/api/v1/jobs', JSON.stringify(JOB_JSON), 'application/json');
    assert.equal(res.statusCode, 201);
    const job = checkAnswer('submit', res) as JobView;
    assert.equal(job.name, 'demo');
    assert.deepEqual(job.tasks.map((t) => t.name).sort(), ['build', 'test']);
    assert.equal(res.headers.location, `/api/v1/jobs/${job.id}`);
  });

  test('submit YAML with any of its content types', T, async () => {
    for (const type of ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml; charset=utf-8']) {
      const res = await post('/api/v1/jobs', JOB_YAML, type);
      assert.equal(res.statusCode, 201, `${type}: ${res.body}`);
      assert.equal((checkAnswer('submit', res) as JobView).name, 'yaml-demo');
    }
  });

  test('an invalid job answers 400 with every error', T, async () => {
    const bad = { name: '', tasks: { Bad_Name: { command: [] }, ok: { command: ['x'], timeout: 'soon' } } };
    const res = await post('/api/v1/jobs', JSON.stringify(bad), 'application/json');
    assert.equal(res.statusCode, 400);
    const { error } = checkAnswer('submit', res) as ErrorAnswer;
    assert.equal(error.code, 'invalid');
    assert.equal(error.message, 'the job file is invalid');
    assert.ok(error.details.length >= 3, JSON.stringify(error.details));
    const paths = error.details.map((d) => d.path).join(' ');
    assert.match(paths, /name/);
    assert.match(paths, /timeout/);
  });

  test('invalid JSON answers 400 with the parser message', T, async () => {
    const res = await post('/api/v1/jobs', '{"name": ', 'application/json');
    assert.equal(res.statusCode, 400);
    const { error } = checkAnswer('submit', res) as ErrorAnswer;
    assert.equal(error.code, 'invalid');
    assert.equal(error.message, 'the job file is invalid');
    assert.equal(error.details.length, 1);
    assert.equal(error.details[0]?.path, '');
    assert.match(error.details[0]?.message ?? '', /^line 1, column \d+: /);
    // Another route's JSON body goes through the same reader, with its own message.
    const other = await post('/api/v1/jobs/x/cancel', '{oops', 'application/json');
    assert.equal(other.statusCode, 400);
    const e2 = (checkAnswer('cancel', other) as ErrorAnswer).error;
    assert.equal(e2.message, 'the request body is not valid JSON');
    assert.match(e2.details[0]?.message ?? '', /^line 1, column 2: /);
  });

  test('a body over the limit answers 413', T, async () => {
    const res = await post('/api/v1/jobs', JSON.stringify({ ...JOB_JSON, pad: 'x'.repeat(5000) }), 'application/json');
    assert.equal(res.statusCode, 413);
    assert.equal((checkAnswer('submit', res) as ErrorAnswer).error.code, 'payload_too_large');
  });

  test('another content type answers 415', T, async () => {
    for (const type of ['text/plain', 'application/xml']) {
      const res = await post('/api/v1/jobs', 'name: x', type);
      assert.equal(res.statusCode, 415);
      const { error } = checkAnswer('submit', res) as ErrorAnswer;
      assert.equal(error.code, 'unsupported_media_type');
      assert.match(error.message, /application\/yaml/);
    }
  });

  test('an unknown job answers 404; an unknown route too, in the same shape', T, async () => {
    const res = await s.app.inject({ url: '/api/v1/jobs/nope' });
    assert.equal(res.statusCode, 404);
    assert.deepEqual(checkAnswer('getJob', res), { error: { code: 'not_found', message: 'no job "nope"', details: [] } });
    const r2 = await s.app.inject({ url: '/api/v1/nothing?x=1' });
    assert.equal(r2.statusCode, 404);
    assert.deepEqual(JSON.parse(r2.body), { error: { code: 'not_found', message: 'no route GET /api/v1/nothing', details: [] } });
    for (const url of ['/api/v1/jobs/nope/cancel', '/api/v1/jobs/nope/retry']) {
      const r = await s.app.inject({ method: 'POST', url });
      assert.equal(r.statusCode, 404);
    }
  });

  // Found by fuzzing (test/fuzz/api.test.ts).
  test('refusals made before routing have the one error shape', T, async () => {
    for (const url of ['/api/v1/jobs/%', '/api/v1/jobs/%zz/logs', '/api/v1/jobs/x/tasks/%C0%AF/logs']) {
      const res = await s.app.inject({ url });
      assert.equal(res.statusCode, 400, url);
      const { error } = JSON.parse(res.body) as ErrorAnswer;
      assert.equal(error.code, 'invalid');
      assert.equal(error.message, `the path ${JSON.stringify(url)} is not valid: each "%" must begin an escape such as %20, decoding to UTF-8`);
    }
    const long = `/api/v1/jobs/${'a'.repeat(101)}`;
    const res = await s.app.inject({ url: long });
    assert.equal(res.statusCode, 414);
    assert.deepEqual(checkAnswer('getJob', res), {
      error: { code: 'invalid', message: `a segment of the path ${JSON.stringify(long)} is too long to name anything`, details: [] },
    });
    assert.equal((await s.app.inject({ url: `/api/v1/jobs/${'a'.repeat(100)}` })).statusCode, 404);
  });

  test('parameters that are empty or given twice are named in our words', T, async () => {
    const cases: Array<[string, 'getJob' | 'taskLogs' | 'listJobs' | 'events', string, string]> = [
      ['/api/v1/jobs/', 'getJob', 'id', 'expected a job id'],
      ['/api/v1/jobs/x/tasks//logs', 'taskLogs', 'task', 'expected a task name'],
      ['/api/v1/jobs?cursor=a&cursor=b', 'listJobs', 'cursor', 'expected one value, not a list (the parameter is given more than once)'],
      ['/api/v1/events?job=a&job=b', 'events', 'job', 'expected one value, not a list (the parameter is given more than once)'],
    ];
    for (const [url, route, path, message] of cases) {
      const res = await s.app.inject({ url });
      assert.equal(res.statusCode, 400, url);
      assert.deepEqual((checkAnswer(route, res) as ErrorAnswer).error.details, [{ path, message }], url);
    }
  });

  test('a YAML merge key that is not a map answers 400, not 500', T, async () => {
    const res = await post('/api/v1/jobs', 'name: x\ntasks:\n  a:\n    <<: 5\n    command: [x]\n', 'application/yaml');
    assert.equal(res.statusCode, 400);
    assert.deepEqual((checkAnswer('submit', res) as ErrorAnswer).error.details,
      [{ path: '', message: 'line 4, column 9: a merge key "<<" takes a map, an alias of a map, or a list of those' }]);
  });

  test('retry of a running job answers 409; cancel answers the job', T, async () => {
    const job = checkAnswer('submit', await post('/api/v1/jobs', JSON.stringify(JOB_JSON), 'application/json')) as JobView;
    await startTask(s.store, job.id, 'build');
    const r = await s.app.inject({ method: 'POST', url: `/api/v1/jobs/${job.id}/retry` });
    assert.equal(r.statusCode, 409);
    assert.equal((checkAnswer('retry', r) as ErrorAnswer).error.code, 'conflict');
    const c = await s.app.inject({ method: 'POST', url: `/api/v1/jobs/${job.id}/cancel` });
    assert.equal(c.statusCode, 200);
    assert.equal((checkAnswer('cancel', c) as JobView).cancelRequested, true);
    const g = await s.app.inject({ url: `/api/v1/jobs/${job.id}` });
    assert.equal((checkAnswer('getJob', g) as JobView).id, job.id);
  });

  test('list filters by state and labels and pages with a cursor', T, async () => {
    for (let i = 0; i < 3; i++) {
      const labels = { team: 'pager', n: String(i) };
      assert.equal((await post('/api/v1/jobs', JSON.stringify({ ...JOB_JSON, name: `p${i}`, labels }), 'application/json')).statusCode, 201);
    }
    const first = checkAnswer('listJobs', await s.app.inject({ url: '/api/v1/jobs?label=team=pager&limit=2&state=queued' })) as JobList;
    assert.deepEqual(first.jobs.map((j) => j.name), ['p2', 'p1']);
    assert.ok(first.nextCursor);
    const second = checkAnswer('listJobs', await s.app.inject({ url: `/api/v1/jobs?label=team=pager&limit=2&cursor=${first.nextCursor}` })) as JobList;
    assert.deepEqual(second.jobs.map((j) => j.name), ['p0']);
    assert.equal(second.nextCursor, null);
    const two = checkAnswer('listJobs', await s.app.inject({ url: '/api/v1/jobs?label=team=pager&label=n=1' })) as JobList;
    assert.deepEqual(two.jobs.map((j) => j.name), ['p1']);
    const none = checkAnswer('listJobs', await s.app.inject({ url: '/api/v1/jobs?label=team=pager&state=succeeded' })) as JobList;
    assert.deepEqual(none.jobs, []);
  });

  test('bad query parameters answer 400 naming each', T, async () => {
    const res = await s.app.inject({ url: '/api/v1/jobs?state=sleeping&limit=0&label=novalue&bogus=1' });
    assert.equal(res.statusCode, 400);
    const { error } = checkAnswer('listJobs', res) as ErrorAnswer;
    assert.deepEqual(error.details.map((d) => d.path).sort(), ['bogus', 'label[0]', 'limit', 'state']);
    assert.equal(error.message, 'the request is invalid');
    const cur = await s.app.inject({ url: '/api/v1/jobs?cursor=garbage' });
    assert.equal(cur.statusCode, 400);
    assert.equal((checkAnswer('listJobs', cur) as ErrorAnswer).error.details[0]?.path, 'cursor');
  });

  test('logs as JSON pages, by job, task and attempt', T, async () => {
    const job = checkAnswer('submit', await post('/api/v1/jobs', JSON.stringify(JOB_JSON), 'application/json')) as JobView;
    const b = await startTask(s.store, job.id, 'build');
    const t = await startTask(s.store, job.id, 'test');
    await log(s.store, b, 'b1\n');
    await log(s.store, t, 't1\n', 'stderr');
    await log(s.store, b, 'b2\n');
    await succeed(s.store, b);
    const all = checkAnswer('jobLogs', await s.app.inject({ url: `/api/v1/jobs/${job.id}/logs` })) as LogPage;
    assert.deepEqual(all.entries.map((e) => e.text), ['b1\n', 't1\n', 'b2\n']);
    assert.equal(all.nextAfter, null);
    const page = checkAnswer('jobLogs', await s.app.inject({ url: `/api/v1/jobs/${job.id}/logs?limit=2` })) as LogPage;
    assert.equal(page.entries.length, 2);
    assert.equal(page.nextAfter, page.entries[1]?.id);
    const rest = checkAnswer('jobLogs', await s.app.inject({ url: `/api/v1/jobs/${job.id}/logs?limit=2&after=${page.nextAfter}` })) as LogPage;
    assert.deepEqual(rest.entries.map((e) => e.text), ['b2\n']);
    const task = checkAnswer('taskLogs', await s.app.inject({ url: `/api/v1/jobs/${job.id}/tasks/test/logs?attempt=1` })) as LogPage;
    assert.deepEqual(task.entries.map((e) => [e.task, e.stream, e.text]), [['test', 'stderr', 't1\n']]);
    const byQuery = checkAnswer('jobLogs', await s.app.inject({ url: `/api/v1/jobs/${job.id}/logs?task=build` })) as LogPage;
    assert.deepEqual(byQuery.entries.map((e) => e.text), ['b1\n', 'b2\n']);
    const noTask = await s.app.inject({ url: `/api/v1/jobs/${job.id}/tasks/nope/logs` });
    assert.equal(noTask.statusCode, 404);
    assert.match((checkAnswer('taskLogs', noTask) as ErrorAnswer).error.message, /no task "nope"/);
  });

  test('openapi.json documents every route from the table', T, async () => {
    const res = await s.app.inject({ url: '/api/v1/openapi.json' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /application\/json/);
    const doc = checkAnswer('openapi', res) as {
      openapi: string; paths: Record<string, Record<string, { responses: Record<string, unknown>; parameters?: { name: string }[] }>>;
      components: { schemas: Record<string, unknown> };
    };
    assert.equal(doc.openapi, '3.1.0');
    for (const r of Object.values(ROUTES)) {
      const op = doc.paths[openApiPath(r.url)]?.[r.method.toLowerCase()];
      assert.ok(op, `${r.method} ${r.url} is missing`);
      for (const status of Object.keys(responsesOf(r))) assert.ok(op.responses[status], `${r.url} ${status}`);
    }
    assert.ok(doc.paths['/api/v1/jobs/{id}/tasks/{task}/logs']?.get?.parameters?.some((p) => p.name === 'task'));
    for (const name of ['Job', 'JobSpec', 'JobList', 'LogPage', 'LogEntry', 'Event', 'Error', 'Outcome']) {
      assert.ok(doc.components.schemas[name], name);
    }
    // Every reference resolves inside the document.
    const refs = [...res.body.matchAll(/"\$ref":"([^"]+)"/g)].map((m) => m[1] ?? '');
    assert.ok(refs.length > 0);
    for (const ref of refs) {
      const m = /^#\/components\/schemas\/([^/]+)$/.exec(ref);
      assert.ok(m?.[1] && doc.components.schemas[m[1]], `unresolved ${ref}`);
    }
  });

  test('schema/job.json is the job JSON Schema', T, async () => {
    const res = await s.app.inject({ url: '/api/v1/schema/job.json' });
    assert.equal(res.statusCode, 200);
    const doc = checkAnswer('jobSchema', res) as { type?: string; properties?: Record<string, unknown> };
    assert.ok(doc.properties?.tasks);
  });
});

describe('server faults', () => {
  test('a 5xx hides what broke and logs it; a broken stream ends with an error event', T, async () => {
    const raw = await openSqliteStore({ path: ':memory:' });
    const store: Store = Object.create(raw) as Store;
    store.listJobs = async () => {
      throw new Error('disk /secret/path is on fire');
    };
    let reads = 0;
    store.readLogs = async (q) => {
      if (++reads > 1) throw new Error('log table vanished');
      return raw.readLogs(q);
    };
    const logged: string[] = [];
    const service = new WharfService({ store, pollMs: 20 });
    const app = buildApp({ service, store, isReady: () => true, logger: { level: 'error', stream: { write: (m: string) => logged.push(m) } } });
    try {
      const res = await app.inject({ url: '/api/v1/jobs' });
      assert.equal(res.statusCode, 500);
      assert.deepEqual(checkAnswer('listJobs', res), { error: { code: 'internal', message: 'internal error', details: [] } });
      assert.ok(logged.some((l) => l.includes('disk /secret/path is on fire')));

      const job = await service.submitValue(JOB_JSON);
      await app.listen({ host: '127.0.0.1', port: 0 });
      const { port } = app.server.address() as AddressInfo;
      const stream = await fetch(`http://127.0.0.1:${port}/api/v1/jobs/${job.id}/logs?follow=true`);
      const { messages } = parseSse(await readStream(stream));
      assert.deepEqual(messages, [{ event: 'error', data: '{"error":{"code":"internal","message":"internal error","details":[]}}' }]);
      assert.ok(logged.some((l) => l.includes('log table vanished')));
    } finally {
      await app.close();
      await raw.close();
    }
  });
});
