// `node dist/bench/run.js docker`: the docker backend's benchmarks, each against the raw Engine API
// measured in the same run on the same dockerd (which the bench starts and stops itself).
//   4. one no-op docker task end to end vs create + start + wait + remove through the Engine API
//   5. one job of 50 independent no-op docker tasks, --concurrency 50, vs 50 raw containers in flight
//   6. a task whose build exists in the registry: the skip, through serve and in-process (docker-build.ts)
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DockerEngine } from '../src/docker/engine.js';
import { cliEnv, startServer, type Server } from '../test/helpers/cli.js';
import { benchBuildSkip } from './docker-build.js';
import { allRemoved, Cleanups, f1, withBenchEngine, jobEnded, median, percentile, RAW_LABEL, rawRun, submit, submitToStart, succeeded } from './docker-util.js';

export interface DockerBench {
  host: string;
  socketPath: string;
  busybox: string;
  engine: DockerEngine;
  cleanups: Cleanups;
  /** `wharf serve --docker on --docker-host <host>` with a fresh WHARF_HOME under the bench's home, stopped at the end. */
  serve(name: string, args: string[]): Promise<Server>;
}

export async function benchDocker(home: string): Promise<void> {
  await withBenchEngine('4-6. docker', async ({ dockerd, busybox, cleanups }) => {
    const engine = new DockerEngine({ host: dockerd.host });
    cleanups.add(() => engine.close());
    const b: DockerBench = {
      host: dockerd.host, socketPath: dockerd.socketPath, busybox, engine, cleanups,
      async serve(name, args) {
        const dir = join(home, name);
        mkdirSync(dir, { recursive: true });
        const s = await startServer(['--docker', 'on', '--docker-host', dockerd.host, ...args], cliEnv({ WHARF_HOME: dir }));
        cleanups.add(() => s.stop());
        return s;
      },
    };
    await benchOneTask(b);
    await benchFifty(b);
    await benchBuildSkip(b, home);
  });
}

async function benchOneTask(b: DockerBench): Promise<void> {
  const s = await b.serve('one', []);
  const spec = (i: number): object => ({ name: `noop-${i}`, tasks: { t: { image: b.busybox, command: ['true'] } } });
  const wharf: number[] = [];
  const toStart: number[] = [];
  const raw: number[] = [];
  const WARMUP = 2;
  for (let i = 0; i < WARMUP + 15; i++) {
    const r = await rawRun(b.engine, b.busybox, ['true']);
    const t0 = performance.now();
    const job = await submit(s.url, spec(i));
    await jobEnded(s.url, job.id);
    const ms = performance.now() - t0;
    const ended = await succeeded(s.url, job.id);
    await allRemoved(b.engine, `wharf.dev/job=${job.id}`); // its removal stays out of the next run
    if (i < WARMUP) continue;
    raw.push(r.totalMs);
    wharf.push(ms);
    toStart.push(...submitToStart(ended));
  }
  console.log(`4. one no-op docker task, submit → job end: median ${f1(median(wharf))} ms; raw Engine API create+start+wait+remove: ` +
    `${f1(median(raw))} ms; ratio ${(median(wharf) / median(raw)).toFixed(2)}× [target ≤ 1.15×] (N=15 each, interleaved)`);
  console.log(`   submit → container started: p50 ${f1(percentile(toStart, 50))} ms, p99 ${f1(percentile(toStart, 99))} ms`);
}

async function benchFifty(b: DockerBench): Promise<void> {
  const N = 50;
  const ROUNDS = 3;
  const s = await b.serve('fifty', ['--concurrency', String(N)]);
  const tasks: Record<string, object> = {};
  for (let i = 0; i < N; i++) tasks[`t${i}`] = { image: b.busybox, command: ['true'] };
  const wharfRate: number[] = [];
  const wharfStart: number[] = [];
  const rawRate: number[] = [];
  const rawStart: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const r0 = performance.now();
    const raws = await Promise.all(Array.from({ length: N }, () => rawRun(b.engine, b.busybox, ['true'], r0)));
    rawRate.push(N / ((performance.now() - r0) / 1000));
    rawStart.push(...raws.map((r) => r.startMs));
    await allRemoved(b.engine, RAW_LABEL);

    const t0 = performance.now();
    const job = await submit(s.url, { name: `wide-${round}`, tasks });
    await jobEnded(s.url, job.id);
    wharfRate.push(N / ((performance.now() - t0) / 1000));
    wharfStart.push(...submitToStart(await succeeded(s.url, job.id)));
    await allRemoved(b.engine, `wharf.dev/job=${job.id}`);
  }
  console.log(`5. one job of ${N} independent no-op docker tasks, --concurrency ${N}: median ${f1(median(wharfRate))} tasks/s ` +
    `(submit → job end); raw Engine API, ${N} in flight: ${f1(median(rawRate))} containers/s; ratio ${(median(wharfRate) / median(rawRate)).toFixed(2)} ` +
    `(${ROUNDS} rounds each, interleaved)`);
  console.log(`   submit → container started: p50 ${f1(percentile(wharfStart, 50))} ms, p99 ${f1(percentile(wharfStart, 99))} ms; ` +
    `raw (ask → start answered): p50 ${f1(percentile(rawStart, 50))} ms, p99 ${f1(percentile(rawStart, 99))} ms`);
}
