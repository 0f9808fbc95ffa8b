// 6. Build skip: a task whose build (a tiny Dockerfile on a base image in an htpasswd registry)
// was built once already. Through `wharf serve`, interleaved with the same task on a plain image
// as the baseline; and in-process, ImageBuilds.resolve of the same build request (hash the
// context, HEAD the manifest), against the bare manifest HEAD it makes.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DockerBuilder } from '../src/builders/docker/builder.js';
import { ImageBuilds } from '../src/builders/images.js';
import { DockerConfigCredentialStore, dockerConfigJson, imageRefs, parseRegistrySettings, RegistryClient, registryCredentials } from '../src/builders/registry/index.js';
import { BUILD_REPOSITORY } from '../src/runtime/containers.js';
import type { BuildPlan } from '../src/spec/plan.js';
import { pushBaseImage } from '../test/infra/base-image.js';
import { startRegistry } from '../test/infra/registry.js';
import type { DockerBench } from './docker.js';
import { allRemoved, f1, jobEnded, median, percentile, submit, submitToStart, succeeded } from './docker-util.js';

const USER = 'bench';
const PASS = 'bench-Pa55-word';
const N = 10;

export async function benchBuildSkip(b: DockerBench, home: string): Promise<void> {
  const reg = await startRegistry({ auth: 'htpasswd', users: { [USER]: PASS } });
  b.cleanups.add(() => reg.stop());
  const base = await pushBaseImage(b.engine, { host: b.host, socketPath: b.socketPath, busybox: b.busybox }, reg.host, USER, PASS);

  const dir = join(home, 'build');
  const context = join(dir, 'context');
  mkdirSync(context, { recursive: true });
  writeFileSync(join(context, 'Dockerfile'), `FROM ${base}\nCOPY f /f\n`);
  writeFileSync(join(context, 'f'), 'bench\n');
  const creds = registryCredentials(USER, PASS);
  const configFile = join(dir, 'docker-config.json');
  writeFileSync(configFile, dockerConfigJson({ [reg.host]: creds, [reg.alias]: creds }), { mode: 0o600 });
  const push = `${reg.alias}/wharf`;
  const pull = `${reg.host}/wharf`;

  const s = await b.serve('build', ['--builder', 'docker', '--registry-push', push, '--registry-pull', pull, '--docker-config', configFile]);
  const built = { name: 'built', tasks: { t: { build: { context }, command: ['cat', '/f'] } } };
  const plain = { name: 'plain', tasks: { t: { image: b.busybox, command: ['cat', '/etc/passwd'] } } };
  const run = async (spec: object): Promise<{ ms: number; toStart: number[] }> => {
    const t0 = performance.now();
    const job = await submit(s.url, spec);
    await jobEnded(s.url, job.id);
    const ms = performance.now() - t0;
    const ended = await succeeded(s.url, job.id);
    await allRemoved(b.engine, `wharf.dev/job=${job.id}`);
    return { ms, toStart: submitToStart(ended) };
  };

  const first = await run(built);
  await run(plain); // warm-up of the plain path
  const skip = { ms: [] as number[], toStart: [] as number[] };
  const base0 = { ms: [] as number[], toStart: [] as number[] };
  for (let i = 0; i < N; i++) {
    const p = await run(plain);
    base0.ms.push(p.ms);
    base0.toStart.push(...p.toStart);
    const k = await run(built);
    skip.ms.push(k.ms);
    skip.toStart.push(...k.toStart);
  }

  // In-process: the same ImageBuilds the server makes (runtime/containers.ts), on the same files.
  const credentials = await DockerConfigCredentialStore.fromFile(configFile);
  const client = new RegistryClient({ credentials });
  const settings = parseRegistrySettings({ push, pull });
  const images = new ImageBuilds({ builder: new DockerBuilder({ engine: b.engine, registry: { client, credentials } }), refs: (tag) => imageRefs(settings, BUILD_REPOSITORY, tag) });
  const plan: BuildPlan = { context, dockerfile: 'Dockerfile', args: {} };
  const resolve = async (): Promise<{ ms: number; tag: string }> => {
    const t0 = performance.now();
    const r = await images.resolve(plan, () => undefined, new AbortController().signal);
    const ms = performance.now() - t0;
    if (r.built) throw new Error(`ImageBuilds.resolve built ${r.image} again: the server's build was not found under its content tag`);
    return { ms, tag: r.tag };
  };
  const { tag } = await resolve(); // warm-up: first connection to the registry
  const pushRef = imageRefs(settings, BUILD_REPOSITORY, tag).push;
  const resolves: number[] = [];
  const heads: number[] = [];
  for (let i = 0; i < N; i++) {
    const h0 = performance.now();
    await client.manifestExists(pushRef);
    heads.push(performance.now() - h0);
    resolves.push((await resolve()).ms);
  }

  console.log(`6. build skip: first submit (build + push + run) ${f1(first.ms)} ms; then N=${N} identical submits, submit → job end median ` +
    `${f1(median(skip.ms))} ms vs ${f1(median(base0.ms))} ms for the same task on a plain image (interleaved): skip costs ` +
    `${f1(median(skip.ms) - median(base0.ms))} ms`);
  console.log(`   submit → container started: with the skipped build p50 ${f1(percentile(skip.toStart, 50))} ms, p99 ${f1(percentile(skip.toStart, 99))} ms; ` +
    `plain image p50 ${f1(percentile(base0.toStart, 50))} ms, p99 ${f1(percentile(base0.toStart, 99))} ms`);
  console.log(`   in-process ImageBuilds.resolve of the same build (exists → skipped): median ${f1(median(resolves))} ms, p99 ${f1(percentile(resolves, 99))} ms ` +
    `[target < 100 ms]; its manifest HEAD alone: median ${f1(median(heads))} ms`);
}
