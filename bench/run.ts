// `npm run bench`: Wharf's foundation benchmarks. Each prints medians and a ratio against a
// baseline measured in the same run, on the same machine. Never part of `npm test`.
//   1. `wharf run -- true` (in-process) vs spawning `true` directly
//   2. 1 000 independent no-op local tasks through `wharf serve`: tasks/s, submit → start p50/p99,
//      against spawning `true` 1 000 times with the same concurrency
//   3. a task writing 100 MB: stored and followed MB/s, against `head | cat` of the same bytes
//   4-6. docker tasks and build skips (`run.js docker`; bench/docker.ts)
//   7-8. kubernetes tasks on the API simulator (`run.js kubernetes`; bench/kubernetes.ts)
//   9-11. the queue (store claims, starts, finishes) vs graphile-worker (`run.js queue`; bench/queue.ts)
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JobView } from '../src/spec/api.js';

const CLI = new URL('../bin/main.js', import.meta.url).pathname;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
}

async function timeSpawn(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<number> {
  const t0 = performance.now();
  const child = spawn(cmd, args, { stdio: 'ignore', env: env ?? process.env });
  const [code] = (await once(child, 'close')) as [number | null];
  if (code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${code}`);
  return performance.now() - t0;
}

function envWith(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  delete env.WHARF_URL;
  return env;
}

async function benchRunTrue(home: string): Promise<void> {
  const env = envWith({ WHARF_HOME: home });
  await timeSpawn(process.execPath, [CLI, 'run', '--', 'true'], env); // creates the database
  const wharf: number[] = [];
  const direct: number[] = [];
  for (let i = 0; i < 15; i++) {
    direct.push(await timeSpawn('true', []));
    wharf.push(await timeSpawn(process.execPath, [CLI, 'run', '--', 'true'], env));
  }
  const nodeOnly: number[] = [];
  for (let i = 0; i < 15; i++) nodeOnly.push(await timeSpawn(process.execPath, ['-e', '0']));
  console.log(`1. wharf run -- true: median ${median(wharf).toFixed(1)} ms; spawning true: ${median(direct).toFixed(1)} ms; ` +
    `node -e 0: ${median(nodeOnly).toFixed(1)} ms; overhead ${(median(wharf) - median(direct)).toFixed(1)} ms ` +
    `(${(median(wharf) / median(direct)).toFixed(1)}×) [target ≤ 300 ms]`);
}

interface Serve { url: string; stop: () => Promise<void> }

async function serve(home: string, args: string[]): Promise<Serve> {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', ...args], { env: envWith({ WHARF_HOME: home }), stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      err += d;
      const m = /listening on (http:\/\/\S+)/.exec(err);
      if (m?.[1]) resolve(m[1]);
    });
    child.once('exit', (c) => reject(new Error(`serve exited ${c}: ${err}`)));
  });
  return { url, stop: async () => { child.kill('SIGTERM'); await once(child, 'exit'); } };
}

async function post(url: string, body: object): Promise<JobView> {
  const res = await fetch(`${url}/api/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (res.status !== 201) throw new Error(`submit: ${res.status} ${await res.text()}`);
  return (await res.json()) as JobView;
}

async function getJob(url: string, id: string): Promise<JobView> {
  return (await (await fetch(`${url}/api/v1/jobs/${id}`)).json()) as JobView;
}

/** Waits until `n` jobs (or the one job given) have ended, reading the event stream. */
async function awaitJobEnds(url: string, n: number, jobId?: string): Promise<void> {
  const res = await fetch(`${url}/api/v1/events${jobId ? `?job=${jobId}` : ''}`, { headers: { accept: 'text/event-stream' } });
  const decoder = new TextDecoder();
  let buf = '';
  let ended = 0;
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buf += decoder.decode(chunk, { stream: true });
      for (let i; (i = buf.indexOf('\n\n')) >= 0; buf = buf.slice(i + 2)) {
        const data = buf.slice(0, i).split('\n').find((l) => l.startsWith('data: '))?.slice(6);
        if (data && /"type":"job_state".*"to":"(succeeded|failed|canceled)"/.test(data)) ended++;
      }
      if (ended >= n) return;
    }
  } finally {
    void res.body?.cancel().catch(() => undefined);
  }
}

async function benchThroughput(home: string): Promise<void> {
  const N = 1000;
  const concurrency = 8;
  const s = await serve(home, ['--concurrency', String(concurrency)]);
  try {
    // Latency first, with an idle worker: one job at a time, submit → its process started.
    const latencies: number[] = [];
    for (let i = 0; i < 100; i++) {
      const at = Date.now();
      const job = await post(s.url, { name: `latency-${i}`, tasks: { t: { command: ['true'] } } });
      await awaitJobEnds(s.url, 1, job.id);
      const started = (await getJob(s.url, job.id)).tasks[0]?.attempts[0]?.startedAt;
      if (started) latencies.push(started - at);
    }

    // Throughput: 1 000 one-task jobs from 8 concurrent clients, until the last one ended.
    const ends = awaitJobEnds(s.url, N);
    const t0 = Date.now();
    await Promise.all(Array.from({ length: 8 }, async (_, c) => {
      for (let i = c; i < N; i += 8) await post(s.url, { name: `noop-${i}`, tasks: { t: { command: ['true'] } } });
    }));
    await ends;
    const wall = (Date.now() - t0) / 1000;

    // One job of 1 000 independent tasks: the per-task cost must not grow with the job.
    const tasks: Record<string, object> = {};
    for (let i = 0; i < N; i++) tasks[`t${i}`] = { command: ['true'] };
    const t1 = Date.now();
    const big = await post(s.url, { name: 'wide', tasks });
    await awaitJobEnds(s.url, 1, big.id);
    const wideWall = (Date.now() - t1) / 1000;

    // Baseline: the same number of `true` processes, same concurrency, no Wharf.
    const b0 = performance.now();
    let next = 0;
    await Promise.all(Array.from({ length: concurrency }, async () => { while (next++ < N) await timeSpawn('true', []); }));
    const base = (performance.now() - b0) / 1000;
    console.log(`2. ${N} no-op one-task jobs through the server: ${(N / wall).toFixed(0)} tasks/s (${wall.toFixed(2)} s); ` +
      `one job of ${N} tasks: ${(N / wideWall).toFixed(0)} tasks/s; spawning true directly: ${(N / base).toFixed(0)}/s ` +
      `(ratio ${((N / wall) / (N / base)).toFixed(2)}) [target ≥ 200 tasks/s]`);
    console.log(`   submit → start, idle worker: p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms ` +
      `[target p99 < 50 ms]`);
  } finally {
    await s.stop();
  }
}

async function benchLogs(home: string): Promise<void> {
  const bytes = 100_000_000;
  const s = await serve(home, ['--log-cap', '128Mi']);
  try {
    const ms: number[] = [];
    const base: number[] = [];
    for (let i = 0; i < 3; i++) {
      base.push(await timeSpawn('sh', ['-c', `head -c ${bytes} /dev/zero | tr '\\0' x | cat > /dev/null`]));
      const t0 = performance.now();
      const job = await post(s.url, { name: 'flood', tasks: { flood: { command: ['sh', '-c', `head -c ${bytes} /dev/zero | tr '\\0' x`] } } });
      // Follow the logs to the end, as a user would: stored and followed.
      const res = await fetch(`${s.url}/api/v1/jobs/${job.id}/logs?follow=true`, { headers: { accept: 'text/event-stream' } });
      let received = 0;
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) received += chunk.length;
      ms.push(performance.now() - t0);
      if (received < bytes) throw new Error(`followed only ${received} bytes`);
    }
    const mbps = (bytes / 1e6) / (median(ms) / 1000);
    const baseMbps = (bytes / 1e6) / (median(base) / 1000);
    console.log(`3. 100 MB of output stored and followed: median ${median(ms).toFixed(0)} ms = ${mbps.toFixed(0)} MB/s ` +
      `vs ${baseMbps.toFixed(0)} MB/s through a pipe (ratio ${(mbps / baseMbps).toFixed(2)}) [target ≥ 50 MB/s]`);
  } finally {
    await s.stop();
  }
}

const home = mkdtempSync(join(tmpdir(), 'wharf-bench-'));
try {
  const only = process.argv[2];
  if (!only || only === 'run') await benchRunTrue(join(home, 'run'));
  if (!only || only === 'throughput') await benchThroughput(join(home, 'throughput'));
  if (!only || only === 'logs') await benchLogs(join(home, 'logs'));
  if (!only || only === 'docker') await (await import('./docker.js')).benchDocker(join(home, 'docker'));
  if (!only || only === 'kubernetes') await (await import('./kubernetes.js')).benchKubernetes(join(home, 'kubernetes'));
  if (!only || only === 'queue') await (await import('./queue.js')).benchQueue(join(home, 'queue'));
} finally {
  rmSync(home, { recursive: true, force: true });
}
