// GET /metrics of a real `wharf serve` after it ran a task that exits 3.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { cliEnv, startServer, tempHome, type Server } from '../helpers/cli.js';
import { parseExposition, valueOf } from '../helpers/prometheus.js';
import { untilFrame } from '../helpers/sse.js';
import type { JobView } from '../../src/spec/api.js';

const home = tempHome();
let server: Server | undefined;
after(async () => { await server?.stop(); home.cleanup(); });

test('wharf serve counts the attempts its worker ran and reports the store', async () => {
  server = await startServer([], cliEnv({ WHARF_HOME: home.dir }));
  const res = await fetch(`${server.url}/api/v1/jobs`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'm', tasks: { t: { command: ['sh', '-c', 'echo hello; exit 3'] } } }),
  });
  assert.equal(res.status, 201);
  const job = await res.json() as JobView;
  // A log stream ends once the job has ended and its output was sent.
  const end = await untilFrame(`${server.url}/api/v1/jobs/${job.id}/logs?follow=true`, (f) => f.event === 'end');
  assert.deepEqual(JSON.parse(end.data), { state: 'failed' });

  const m = await fetch(`${server.url}/metrics`);
  assert.equal(m.status, 200);
  assert.equal(m.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
  const text = await m.text();
  assert.match(text, /^wharf_claims_total\{backend="local"\} 1$/m);
  assert.match(text, /^wharf_attempts_ended_total\{backend="local",outcome="exited"\} 1$/m);
  const s = parseExposition(text);
  assert.equal(valueOf(s, 'wharf_attempt_duration_seconds_count', { backend: 'local', outcome: 'exited' }), 1);
  assert.equal(valueOf(s, 'wharf_log_bytes_total', { stream: 'stdout' }), 6);
  assert.equal(valueOf(s, 'wharf_jobs', { state: 'failed' }), 1);
  assert.ok(valueOf(s, 'process_resident_memory_bytes') > 0);
});
