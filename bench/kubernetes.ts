// `node dist/bench/run.js kubernetes`: the kubernetes backend through `wharf serve` on the API
// simulator (pods as real containers on a dockerd the bench starts and stops itself), each
// against client-node driving the same simulator in the same run (kubernetes-baseline.ts).
//   7. API requests and watch events per task, for a 0 s and a 5 s task: O(1) in the task's
//      duration, vs a per-pod phase poll (runner-container-hooks' waitForPodPhases backoff)
//   8. one job of 200 independent no-op tasks, --concurrency 50: tasks/s and submit → running,
//      vs the same 200 pods created straight through client-node, 50 in flight, one watch
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliEnv, startServer, type Server } from '../test/helpers/cli.js';
import { startSimulator, type Simulator } from '../test/k8s-sim/index.js';
import { createDockerKubelet } from '../test/k8s-sim/kubelet/index.js';
import { directPods, phasePoll, untilNoPods } from './kubernetes-baseline.js';
import { Cleanups, f1, withBenchEngine, jobEnded, median, percentile, submit, submitToStart, succeeded } from './docker-util.js';

interface KubeBench {
  sim: Simulator;
  busybox: string;
  cleanups: Cleanups;
  /** `wharf serve --docker off --kubernetes on` on the simulator, with a fresh WHARF_HOME. */
  serve(name: string, args: string[]): Promise<Server>;
}

type Counted = ReturnType<Simulator['counts']['snapshot']>;

export async function benchKubernetes(home: string): Promise<void> {
  // The simulator runs the pods as containers of the bench's own dockerd.
  await withBenchEngine('7-8. kubernetes', async ({ dockerd, busybox, cleanups }) => {
    mkdirSync(home, { recursive: true });
    const sim = await startSimulator({ kubelet: (host) => createDockerKubelet({ host, dockerHost: dockerd.host }), token: 'bench-token' });
    cleanups.add(() => sim.stop());
    const kubeconfig = join(home, 'kubeconfig');
    writeFileSync(kubeconfig, sim.kubeConfigYaml(), { mode: 0o600 });
    const b: KubeBench = {
      sim, busybox, cleanups,
      async serve(name, args) {
        const dir = join(home, name);
        mkdirSync(dir, { recursive: true });
        const s = await startServer(['--docker', 'off', '--kubernetes', 'on', '--kubeconfig', kubeconfig, ...args], cliEnv({ WHARF_HOME: dir }));
        cleanups.add(() => s.stop());
        return s;
      },
    };
    await benchRequestsPerTask(b);
    await benchTwoHundred(b);
  });
}

/** One job of `n` tasks running `command`; what the API server saw from its submit until its last pod is gone. */
async function wharfBatch(b: KubeBench, s: Server, name: string, n: number, command: string[]): Promise<Counted> {
  const tasks: Record<string, object> = {};
  for (let i = 0; i < n; i++) tasks[`t${i}`] = { image: b.busybox, command };
  b.sim.counts.reset();
  const job = await submit(s.url, { name, tasks });
  await jobEnded(s.url, job.id);
  await succeeded(s.url, job.id);
  await untilNoPods(b.sim);
  return b.sim.counts.snapshot();
}

async function baselineBatch(b: KubeBench, name: string, n: number, command: string[]): Promise<Counted> {
  b.sim.counts.reset();
  await phasePoll(b.sim, name, n, b.busybox, command);
  await untilNoPods(b.sim);
  return b.sim.counts.snapshot();
}

const total = (c: Counted): number => Object.values(c.requests).reduce((a, v) => a + v, 0);
const perTask = (x: number, n: number): string => (x / n).toFixed(2);

function table(title: string, cols: [string, Counted][], n: number): void {
  const keys = [...new Set(cols.flatMap(([, c]) => Object.keys(c.requests)))].sort();
  const w = Math.max(24, ...keys.map((k) => k.length + 2));
  console.log(`   ${title.padEnd(w)}${cols.map(([h]) => h.padStart(10)).join('')}`);
  for (const k of keys) console.log(`     ${k.padEnd(w - 2)}${cols.map(([, c]) => perTask(c.requests[k] ?? 0, n).padStart(10)).join('')}`);
  console.log(`     ${'all requests'.padEnd(w - 2)}${cols.map(([, c]) => perTask(total(c), n).padStart(10)).join('')}`);
  console.log(`     ${'watch events'.padEnd(w - 2)}${cols.map(([, c]) => perTask(c.watchEvents, n).padStart(10)).join('')}`);
}

async function benchRequestsPerTask(b: KubeBench): Promise<void> {
  const N = 10;
  const s = await b.serve('requests', ['--concurrency', String(N)]);
  await wharfBatch(b, s, 'warmup', 1, ['true']); // its connections and first list/watch stay out of the counts
  const quick = await wharfBatch(b, s, 'noop', N, ['true']);
  const slow = await wharfBatch(b, s, 'sleep5', N, ['sleep', '5']);
  await s.stop(); // its watch would otherwise see (and count) the baseline's pods
  const pollQuick = await baselineBatch(b, 'poll-noop', N, ['true']);
  const pollSlow = await baselineBatch(b, 'poll-sleep5', N, ['sleep', '5']);
  console.log(`7. API requests per task (N=${N} tasks per column, counted by the simulator; per-task averages):`);
  table('wharf serve', [['true', quick], ['sleep 5', slow]], N);
  table('phase poll (1 s → 20 s)', [['true', pollQuick], ['sleep 5', pollSlow]], N);
  const ratio = (base: Counted, w: Counted): string => (total(base) / total(w)).toFixed(2);
  console.log(`   requests per task, wharf: ${perTask(total(quick), N)} (true) vs ${perTask(total(slow), N)} (sleep 5); ` +
    `phase poll: ${perTask(total(pollQuick), N)} vs ${perTask(total(pollSlow), N)}; ` +
    `poll ÷ wharf: ${ratio(pollQuick, quick)}× (true), ${ratio(pollSlow, slow)}× (sleep 5)`);
}

async function benchTwoHundred(b: KubeBench): Promise<void> {
  const N = 200;
  const C = 50;
  const ROUNDS = 3;
  const s = await b.serve('wide', ['--concurrency', String(C)]);
  await wharfBatch(b, s, 'warmup', 1, ['true']);
  const tasks: Record<string, object> = {};
  for (let i = 0; i < N; i++) tasks[`t${i}`] = { image: b.busybox, command: ['true'] };
  const wharfMs: number[] = [];
  const wharfStart: number[] = [];
  const directMs: number[] = [];
  const directStart: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    // Wharf's watch selects its own instance's pods: the baseline's cost it nothing.
    const direct = await directPods(b.sim, `direct-${round}`, N, C, b.busybox);
    directMs.push(direct.wallMs);
    directStart.push(...direct.toStartMs);
    await untilNoPods(b.sim);

    const t0 = performance.now();
    const job = await submit(s.url, { name: `wide-${round}`, tasks });
    await jobEnded(s.url, job.id);
    wharfMs.push(performance.now() - t0);
    wharfStart.push(...submitToStart(await succeeded(s.url, job.id)));
    await untilNoPods(b.sim);
  }
  await s.stop();

  const wall = median(wharfMs);
  const directWall = median(directMs);
  const wharfRate = N / (wall / 1000);
  const directRate = N / (directWall / 1000);
  console.log(`8. one job of ${N} no-op tasks through the simulator, --concurrency ${C}: median ${f1(wharfRate)} tasks/s (${f1(wall / 1000)} s, submit → job end); ` +
    `client-node, ${C} pods in flight, one watch: ${f1(directRate)} pods/s (${f1(directWall / 1000)} s); ratio ${(wharfRate / directRate).toFixed(2)} ` +
    `(${ROUNDS} rounds each, interleaved)`);
  console.log(`   submit → running (container startedAt, whole seconds): wharf p50 ${f1(percentile(wharfStart, 50))} ms, p99 ${f1(percentile(wharfStart, 99))} ms; ` +
    `client-node p50 ${f1(percentile(directStart, 50))} ms, p99 ${f1(percentile(directStart, 99))} ms; ` +
    `p50 ratio ${(percentile(wharfStart, 50) / percentile(directStart, 50)).toFixed(2)}`);
  console.log(`   Wharf's own overhead over the container starts: ${f1((wall - directWall) / N)} ms per task ` +
    `(median ${f1(wall / 1000)} s − ${f1(directWall / 1000)} s over ${N} tasks)`);
}
