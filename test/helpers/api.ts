// Talking to a real `wharf serve` from the tests: requests, submits, and waiting on its streams.
import assert from 'node:assert/strict';
import type { JobView, LogEntry, WharfEvent } from '../../src/spec/api.js';
import type { Server } from './cli.js';
import { untilFrame } from './sse.js';

export async function api<T>(server: Server, path: string, init?: RequestInit): Promise<T> {
  const res = await fetch(`${server.url}/api/v1${path}`, init);
  const body = await res.text();
  assert.ok(res.ok, `${init?.method ?? 'GET'} ${path}: ${res.status} ${body}`);
  return JSON.parse(body) as T;
}

export function submit(server: Server, spec: object): Promise<JobView> {
  return api<JobView>(server, '/jobs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(spec) });
}

/** Resolves with the first event of the job for which `pred` holds (streamed, not polled). */
export async function waitForEvent(server: Server, jobId: string, pred: (e: WharfEvent) => boolean): Promise<WharfEvent> {
  const f = await untilFrame(`${server.url}/api/v1/events?job=${jobId}`, (f) => f.event !== 'end' && pred(JSON.parse(f.data) as WharfEvent));
  return JSON.parse(f.data) as WharfEvent;
}

/** The job once it has ended. */
export async function jobEnd(server: Server, jobId: string): Promise<JobView> {
  await waitForEvent(server, jobId, (e) => e.type === 'job_state' && ['succeeded', 'failed', 'canceled'].includes(e.to));
  return api<JobView>(server, `/jobs/${jobId}`);
}

export function untilLog(server: Server, jobId: string, text: string): Promise<unknown> {
  return untilFrame(`${server.url}/api/v1/jobs/${jobId}/logs?follow=true`, (f) => f.event === 'log' && (JSON.parse(f.data) as LogEntry).text.includes(text));
}

/** Every stored log entry of a job (one page is enough for the tests' jobs). */
export async function allLogs(server: Server, jobId: string, task?: string): Promise<LogEntry[]> {
  const page = await api<{ entries: LogEntry[] }>(server, `/jobs/${jobId}${task ? `/tasks/${task}` : ''}/logs?limit=10000`);
  return page.entries;
}

/** SIGKILLs a `wharf serve` and waits until it is gone. */
export async function sigkill(server: Server): Promise<void> {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return;
  const gone = new Promise((resolve) => server.child.once('exit', resolve));
  server.child.kill('SIGKILL');
  await gone;
}

/**
 * A job whose worker was killed while its task counted `line 1` … `line n`: it succeeded with
 * one attempt (taken over, not retried), every line stored exactly once, and the take-over said.
 */
export async function expectTakenOver(server: Server, jobId: string, n: number): Promise<void> {
  const end = await jobEnd(server, jobId);
  assert.equal(end.state, 'succeeded');
  assert.equal(end.tasks[0]?.attempts.length, 1, 'taken over, not retried');
  const logs = await allLogs(server, jobId);
  const lines = logs.filter((l) => l.stream === 'stdout').map((l) => l.text).join('').split('\n').filter(Boolean);
  assert.deepEqual(lines, Array.from({ length: n }, (_, i) => `line ${i + 1}`));
  assert.ok(logs.some((l) => l.stream === 'system' && /took over this attempt/.test(l.text)));
}
