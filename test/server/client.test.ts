// HttpClient against a real server: every WharfApi method, errors mapped to the same ApiError
// the in-process service throws, and event streams that survive a server restart.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { HttpClient } from '../../src/client/http.js';
import { ApiError, type FollowEnd } from '../../src/client/types.js';
import { startServer, type RunningServer } from '../../src/server/listen.js';
import type { LogEntry, WharfEvent } from '../../src/spec/api.js';
import { claimAll, eventually, JOB_JSON, JOB_YAML, log, setup, startTask, succeed, type Setup } from './helpers.js';

const T = { timeout: 15_000 };

/** Everything an iterator yields, and what it returns. */
async function drain<T>(it: AsyncIterator<T, FollowEnd | undefined>): Promise<{ items: T[]; end: FollowEnd | undefined }> {
  const items: T[] = [];
  for (;;) {
    const r = await it.next();
    if (r.done) return { items, end: r.value };
    items.push(r.value);
  }
}

async function rejects(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ApiError, String(e));
    return e;
  }
  assert.fail('expected an ApiError');
}

describe('HttpClient', () => {
  let s: Setup;
  let server: RunningServer;
  let client: HttpClient;
  before(async () => {
    s = await setup();
    server = await startServer({ service: s.service, store: s.store, port: 0 });
    client = new HttpClient(`${server.url}/`, { reconnectDelayMs: 50 });
  });
  after(async () => {
    await client.close();
    await server.close();
    await s.close();
  });

  test('submit, get, list, cancel and retry round trip', T, async () => {
    const a = await client.submit({ text: JSON.stringify({ ...JOB_JSON, labels: { team: 'client' } }) });
    const b = await client.submit({ text: JOB_YAML.replace('team: b', 'team: client') });
    assert.equal(b.name, 'yaml-demo');
    assert.deepEqual(await client.getJob(a.id), await s.service.getJob(a.id));
    const page = await client.listJobs({ labels: { team: 'client' }, limit: 1 });
    assert.deepEqual(page.jobs.map((j) => j.id), [b.id]);
    assert.ok(page.nextCursor);
    const next = await client.listJobs({ labels: { team: 'client' }, cursor: page.nextCursor, state: 'queued' });
    assert.deepEqual(next.jobs.map((j) => j.id), [a.id]);

    const canceled = await client.cancel(b.id);
    assert.equal(canceled.state, 'canceled');
    const retried = await client.retry(b.id);
    assert.equal(retried.id, b.id);
    assert.notEqual(retried.state, 'canceled');
  });

  test('errors carry the same code, message and details as in-process', T, async () => {
    const bad = { text: 'name: ""\ntasks:\n  Bad: {command: []}\n', format: 'yaml' as const };
    const remote = await rejects(client.submit(bad));
    const local = await rejects(s.service.submit(bad));
    assert.equal(remote.code, 'invalid');
    assert.equal(remote.status, 400);
    assert.ok(remote.details.length >= 2);
    assert.deepEqual([remote.code, remote.message, remote.details], [local.code, local.message, local.details]);

    const missing = await rejects(client.getJob('nope'));
    assert.deepEqual([missing.code, missing.message, missing.status], ['not_found', 'no job "nope"', 404]);

    const job = await client.submit({ text: JSON.stringify(JOB_JSON), format: 'json' });
    await startTask(s.store, job.id, 'build');
    const conflict = await rejects(client.retry(job.id));
    assert.equal(conflict.code, 'conflict');
    assert.equal((await rejects(client.readLogs(job.id, { task: 'nope' }))).code, 'not_found');
    // Refused by the server's query validation, and by the service the same way.
    const limitRemote = await rejects(client.listJobs({ limit: 100_000 }));
    const limitLocal = await rejects(s.service.listJobs({ limit: 100_000 }));
    assert.deepEqual(limitRemote.details, [{ path: 'limit', message: 'expected a whole number from 1 to 500' }]);
    assert.deepEqual([limitRemote.code, limitRemote.message, limitRemote.details], [limitLocal.code, limitLocal.message, limitLocal.details]);
    // A flow-style YAML file is recognised as YAML both ways.
    const flow = { text: '{name: flow, tasks: {a: {command: [echo, hi]}}}' };
    assert.equal((await client.submit(flow)).name, 'flow');
    assert.equal((await s.service.submit(flow)).name, 'flow');
  });

  test('a server that is not there is unavailable', T, async () => {
    const nowhere = new HttpClient('http://127.0.0.1:1');
    const e = await rejects(nowhere.getJob('x'));
    assert.equal(e.code, 'unavailable');
    assert.match(e.message, /^cannot reach Wharf at http:\/\/127\.0\.0\.1:1: /);
    await assert.rejects(drain(nowhere.followEvents()[Symbol.asyncIterator]()), (x: unknown) => x instanceof ApiError && x.code === 'unavailable');
    await nowhere.close();
  });

  test('readLogs, followLogs and followEvents', T, async () => {
    const job = await client.submit({ text: JSON.stringify({ ...JOB_JSON, tasks: { main: { command: ['true'] } } }) });
    const c = await startTask(s.store, job.id, 'main');
    await log(s.store, c, 'one\n');
    const logs = drain(client.followLogs(job.id, undefined));
    const task = drain(client.followLogs(job.id, 'main', { after: 0 }));
    const events = drain(client.followEvents({ jobId: job.id }));
    await log(s.store, c, 'two\n', 'stderr');
    await succeed(s.store, c);
    const l = await logs;
    assert.deepEqual(l.items.map((e: LogEntry) => [e.stream, e.text]), [['stdout', 'one\n'], ['stderr', 'two\n']]);
    assert.deepEqual(l.end, { state: 'succeeded' });
    assert.deepEqual((await task).items, l.items);
    const ev = await events;
    assert.deepEqual(ev.end, { state: 'succeeded' });
    assert.ok(ev.items.some((e: WharfEvent) => e.type === 'job_state' && e.to === 'succeeded'));

    const page = await client.readLogs(job.id, { limit: 1 });
    assert.deepEqual(page.entries.map((e) => e.text), ['one\n']);
    const rest = await client.readLogs(job.id, { after: page.nextAfter ?? undefined, task: 'main', attempt: 1 });
    assert.deepEqual(rest, { entries: [l.items[1]], nextAfter: null });
  });

  test('close() and an abort signal end a follow quietly', T, async () => {
    const job = await client.submit({ text: JSON.stringify(JOB_JSON) });
    const ac = new AbortController();
    const a = drain(client.followLogs(job.id, undefined, { signal: ac.signal }));
    const other = new HttpClient(server.url);
    const b = drain(other.followEvents());
    await new Promise((r) => setTimeout(r, 100));
    ac.abort();
    await other.close();
    assert.deepEqual(await a, { items: [], end: undefined });
    // Server-wide events start at the oldest unless told `after`; only the end matters here.
    assert.equal((await b).end, undefined);
  });

  test('a follow reconnects after the server restarts, losing and repeating nothing', T, async () => {
    const first = await startServer({ service: s.service, store: s.store, port: 0 });
    const port = Number(new URL(first.url).port);
    const c2 = new HttpClient(first.url, { reconnectDelayMs: 50, maxReconnects: 40 });
    let second: RunningServer | undefined;
    let firstOpen = true;
    try {
      const job = await s.service.submitValue({ ...JOB_JSON, tasks: { main: { command: ['true'] } } });
      const [claim] = (await claimAll(s.store)).filter((x) => x.jobId === job.id);
      assert.ok(claim);
      assert.ok((await s.store.markStarted(claim)).ok);
      const seen: string[] = [];
      const it = c2.followLogs(job.id, 'main');
      const following = (async () => {
        for (;;) {
          const r = await it.next();
          if (r.done) return r.value;
          seen.push(r.value.text);
        }
      })();
      await log(s.store, claim, 'a');
      await eventually(() => seen.length === 1);
      firstOpen = false;
      await first.close();
      await log(s.store, claim, 'b');
      second = await startServer({ service: s.service, store: s.store, port });
      await log(s.store, claim, 'c');
      await succeed(s.store, claim);
      assert.deepEqual(await following, { state: 'succeeded' });
      assert.deepEqual(seen, ['a', 'b', 'c']);
    } finally {
      await c2.close();
      if (firstOpen) await first.close();
      await second?.close();
    }
  });
});
