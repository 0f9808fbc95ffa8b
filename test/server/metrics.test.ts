// GET /metrics over a store driven by hand: the store's gauges, the exposition format, and the
// 404 of a server that keeps no metrics.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WharfService } from '../../src/api/service.js';
import { createMetrics } from '../../src/metrics/index.js';
import { buildApp } from '../../src/server/app.js';
import { METRICS_TYPE } from '../../src/server/routes.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { parseExposition, valueOf } from '../helpers/prometheus.js';
import { checkAnswer, JOB_JSON, log, setup, startTask, succeed } from './helpers.js';

const T = { timeout: 10_000 };

test('/metrics shows the store: jobs and tasks by state, queues by backend', T, async () => {
  const store = await openSqliteStore({ path: ':memory:' });
  const metrics = createMetrics({ store, backends: ['local'] });
  const service = new WharfService({ store, defaultBackend: 'local' });
  const app = buildApp({ service, store, isReady: () => true, metrics: () => metrics.scrape() });
  const scrape = async (): Promise<{ text: string; type: string }> => {
    const res = await app.inject({ url: '/metrics' });
    assert.equal(res.statusCode, 200, res.body);
    return { text: res.body, type: String(res.headers['content-type']) };
  };
  try {
    const done = await service.submitValue({ name: 'one', tasks: { t: { command: ['true'] } } });
    const c = await startTask(store, done.id, 't');
    await log(store, c, 'hi\n');
    await succeed(store, c);
    const waiting = await service.submitValue(JOB_JSON);

    const { text, type } = await scrape();
    assert.equal(type, METRICS_TYPE);
    assert.equal(type, metrics.registry.contentType);
    assert.match(text, /^wharf_jobs\{state="succeeded"\} 1$/m);
    const s = parseExposition(text);
    assert.equal(valueOf(s, 'wharf_jobs', { state: 'queued' }), 1);
    assert.equal(valueOf(s, 'wharf_jobs', { state: 'failed' }), 0, 'every state is reported');
    assert.equal(valueOf(s, 'wharf_tasks', { state: 'succeeded' }), 1);
    assert.equal(valueOf(s, 'wharf_tasks', { state: 'ready' }), 2);
    assert.equal(valueOf(s, 'wharf_queue_depth', { backend: 'local', state: 'claimable' }), 2);
    assert.equal(valueOf(s, 'wharf_queue_depth', { backend: 'local', state: 'backoff' }), 0);
    assert.ok(valueOf(s, 'wharf_queue_oldest_seconds', { backend: 'local' }) >= 0);
    assert.equal(valueOf(s, 'wharf_attempts_running', { backend: 'local' }), 0);
    // Nothing ran through a worker here: its counters are at zero, and Node's own metrics are there.
    assert.equal(valueOf(s, 'wharf_claims_total', { backend: 'local' }), 0);
    assert.ok(valueOf(s, 'process_cpu_user_seconds_total') > 0);
    assert.ok(!text.includes(done.id) && !text.includes(waiting.id), 'no job ids in labels');

    // Gauges follow the store from one scrape to the next (starting one task claims both).
    const b = await startTask(store, waiting.id, 'build');
    const again = parseExposition((await scrape()).text);
    assert.equal(valueOf(again, 'wharf_attempts_running', { backend: 'local' }), 2);
    assert.equal(valueOf(again, 'wharf_queue_depth', { backend: 'local', state: 'claimable' }), 0);
    assert.equal(valueOf(again, 'wharf_jobs', { state: 'queued' }), 0);
    assert.equal(valueOf(again, 'wharf_jobs', { state: 'running' }), 1);
    await succeed(store, b);
  } finally {
    await app.close();
    await store.close();
  }
});

test('/metrics answers 404 in the usual shape when the server keeps no metrics; the API document lists it', T, async () => {
  const s = await setup();
  try {
    const res = await s.app.inject({ url: '/metrics' });
    assert.equal(res.statusCode, 404);
    assert.deepEqual(checkAnswer('metrics', res), { error: { code: 'not_found', message: 'this server keeps no metrics', details: [] } });
    const doc = JSON.parse((await s.app.inject({ url: '/api/v1/openapi.json' })).body) as {
      paths: Record<string, { get?: { responses: Record<string, { content: Record<string, { schema: unknown }> }> } }>;
    };
    assert.deepEqual(doc.paths['/metrics']?.get?.responses['200']?.content, { [METRICS_TYPE]: { schema: { type: 'string' } } });
  } finally {
    await s.close();
  }
});
