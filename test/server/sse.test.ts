// Event streams over a real listening server: live entries, the end event, resuming with
// Last-Event-ID, the events stream, pings, and followers that stop when the client leaves.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { AddressInfo } from 'node:net';
import { eventSchema, logEntrySchema, type JobView } from '../../src/spec/api.js';
import { eventually, JOB_JSON, log, parseSse, readStream, setup, startTask, succeed, type Setup } from './helpers.js';

const T = { timeout: 10_000 };

describe('server-sent events', () => {
  let s: Setup;
  let url: string;
  before(async () => {
    s = await setup({ pingMs: 100 });
    await s.app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(s.app.server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await s.close();
  });

  const submit = async (): Promise<JobView> => s.service.submitValue({ ...JOB_JSON, tasks: { main: { command: ['true'] } } });

  test('follow receives entries appended after connecting and ends when the job ends', T, async () => {
    const job = await submit();
    const c = await startTask(s.store, job.id, 'main');
    await log(s.store, c, 'before\n');
    const res = await fetch(`${url}/api/v1/jobs/${job.id}/logs?follow=true`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
    const reading = readStream(res);
    await log(s.store, c, 'one\n');
    await log(s.store, c, 'two\n');
    await succeed(s.store, c);
    const { messages } = parseSse(await reading);
    const logs = messages.filter((m) => m.event === 'log');
    assert.deepEqual(logs.map((m) => logEntrySchema.parse(JSON.parse(m.data)).text), ['before\n', 'one\n', 'two\n']);
    for (const m of logs) assert.equal(m.id, String(logEntrySchema.parse(JSON.parse(m.data)).id));
    assert.deepEqual(messages.at(-1), { event: 'end', data: '{"state":"succeeded"}' });
    await eventually(() => s.listeners() === 0);
  });

  test('Accept: text/event-stream selects the stream; a task stream ends with its task', T, async () => {
    const job = await s.service.submitValue(JOB_JSON);
    const b = await startTask(s.store, job.id, 'build');
    await log(s.store, b, 'x\n');
    const res = await fetch(`${url}/api/v1/jobs/${job.id}/tasks/build/logs`, { headers: { accept: 'text/event-stream' } });
    const reading = readStream(res);
    await succeed(s.store, b);
    const { messages } = parseSse(await reading);
    assert.deepEqual(messages.map((m) => m.event), ['log', 'end']);
    assert.equal(messages[1]?.data, '{"state":"succeeded"}');
    // The job still runs (its other task has not ended); only the task's stream ended.
    assert.equal((await s.service.getJob(job.id)).state, 'running');
  });

  test('resuming with Last-Event-ID loses and repeats nothing', T, async () => {
    const job = await submit();
    const c = await startTask(s.store, job.id, 'main');
    for (const t of ['a', 'b', 'c']) await log(s.store, c, t);
    const first = await fetch(`${url}/api/v1/jobs/${job.id}/logs?follow=true`);
    const part = parseSse(await readStream(first, (text) => (text.match(/event: log/g) ?? []).length >= 2)).messages;
    const seen = part.filter((m) => m.event === 'log').slice(0, 2);
    assert.equal(seen.length, 2);
    for (const t of ['d', 'e']) await log(s.store, c, t);
    const res = await fetch(`${url}/api/v1/jobs/${job.id}/logs?follow=true&after=0`, { headers: { 'last-event-id': seen[1]?.id ?? '' } });
    const reading = readStream(res);
    await succeed(s.store, c);
    const rest = parseSse(await reading).messages.filter((m) => m.event === 'log');
    const texts = [...seen, ...rest].map((m) => logEntrySchema.parse(JSON.parse(m.data)).text);
    assert.deepEqual(texts, ['a', 'b', 'c', 'd', 'e']);
    // The `after` query resumes the same way when there is no header.
    const again = parseSse(await readStream(await fetch(`${url}/api/v1/jobs/${job.id}/logs?follow=1&after=${seen[1]?.id}`))).messages;
    assert.deepEqual(again.filter((m) => m.event === 'log').map((m) => logEntrySchema.parse(JSON.parse(m.data)).text), ['c', 'd', 'e']);
  });

  test('events of one job stream until it ends; server-wide events keep going', T, async () => {
    await submit(); // history the server-wide stream must not replay
    const since = await s.store.latestEventId();
    const wide = new AbortController();
    const wideRes = await fetch(`${url}/api/v1/events`, { signal: wide.signal });
    let wideText = '';
    const wideReading = readStream(wideRes, (t) => {
      wideText = t;
      return false;
    }).catch(() => wideText);
    const job = await submit();
    const res = await fetch(`${url}/api/v1/events?job=${job.id}`);
    const reading = readStream(res);
    const c = await startTask(s.store, job.id, 'main');
    await succeed(s.store, c);
    const { messages } = parseSse(await reading);
    const end = messages.at(-1);
    assert.deepEqual(end, { event: 'end', data: '{"state":"succeeded"}' });
    const events = messages.slice(0, -1).map((m) => ({ m, e: eventSchema.parse(JSON.parse(m.data)) }));
    for (const { m, e } of events) {
      assert.equal(m.event, e.type);
      assert.equal(m.id, String(e.id));
      assert.equal(e.jobId, job.id);
    }
    const ids = events.map(({ e }) => e.id);
    assert.deepEqual(ids, [...ids].sort((a, b) => a - b));
    assert.ok(events.some(({ e }) => e.type === 'job_state' && e.to === 'succeeded'));
    // The server-wide stream saw the same end, has not ended, and pings while idle.
    await eventually(() => wideText.includes('"to":"succeeded"') && wideText.includes(': ping'));
    assert.ok(!wideText.includes('event: end'));
    wide.abort();
    await wideReading;
    const wideIds = parseSse(wideText).messages.filter((m) => m.id !== undefined).map((m) => Number(m.id));
    assert.ok(wideIds.length > 0 && wideIds.every((id) => id > since), 'server-wide, it starts with what happens next');
    await eventually(() => s.listeners() === 0);
  });

  test('a client that leaves stops its follower', T, async () => {
    const job = await submit();
    const ac = new AbortController();
    const res = await fetch(`${url}/api/v1/jobs/${job.id}/logs?follow=true`, { signal: ac.signal });
    assert.equal(res.status, 200);
    await eventually(() => s.listeners() === 1);
    ac.abort();
    await eventually(() => s.listeners() === 0);
  });

  test('an unknown job is a plain 404 before any stream starts', T, async () => {
    for (const path of ['/api/v1/jobs/nope/logs?follow=true', '/api/v1/events?job=nope']) {
      const res = await fetch(url + path);
      assert.equal(res.status, 404);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'not_found');
    }
    const bad = await fetch(`${url}/api/v1/events`, { headers: { 'last-event-id': 'x' } });
    assert.equal(bad.status, 400);
  });
});
