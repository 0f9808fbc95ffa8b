// The Kaniko builder against the Kubernetes API simulator whose kubelet runs pods as real
// containers (host network, so they reach the loopback registry), the real Kaniko executor image
// and a real docker-registry with htpasswd: build and push under one registry name and find under
// another, skip the repeat, a failing RUN, wrong credentials, abort, the pod's hardening, cleanup.
import { KubeConfig, type V1Pod } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { contextDigest, loadContext } from '../../src/builders/context.js';
import { BuildError } from '../../src/builders/errors.js';
import { ImageBuilds, type ImageRefs } from '../../src/builders/images.js';
import { KanikoBuilder, type KanikoBuilderOptions } from '../../src/builders/kaniko/index.js';
import { MapCredentialStore, registryCredentials, RegistryClient, type CredentialStore } from '../../src/builders/registry/index.js';
import type { BuildRequest } from '../../src/builders/types.js';
import { DockerEngine } from '../../src/docker/index.js';
import type { BuildPlan } from '../../src/spec/plan.js';
import { pushBaseImage } from '../infra/base-image.js';
import { kanikoImage } from '../infra/kaniko.js';
import { testDocker } from '../infra/docker.js';
import { startRegistry, type TestRegistry } from '../infra/registry.js';
import { startSimulator, type Simulator } from '../k8s-sim/index.js';
import { createDockerKubelet } from '../k8s-sim/kubelet/index.js';

const USER = 'kaniko';
const PASS = 'Pa55-kaniko-secret';
const WRONG = 'Wr0ng-kaniko-value';
// Build pods must pass the baseline Pod Security Standard: the namespace enforces it.
const NS = 'builds';

let sim: Simulator;
let reg: TestRegistry;
let base: string;
let work: string;
const timings: string[] = [];

function creds(password: string): CredentialStore {
  const c = registryCredentials(USER, password);
  return new MapCredentialStore({ [reg.host]: c, [reg.alias]: c });
}

function kubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions(sim.kubeConfigOptions());
  return kc;
}

function makeBuilder(credentials: CredentialStore, extra: Partial<KanikoBuilderOptions> = {}): KanikoBuilder {
  return new KanikoBuilder({
    kubeConfig: kubeConfig(), namespace: NS, instanceId: 'kaniko-test',
    registry: { client: new RegistryClient({ credentials }), credentials },
    // Small requests: the simulated nodes are 2 CPUs, 4 Gi each.
    resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '1Gi' } },
    apiTimeoutMs: 10_000,
    ...extra,
  });
}

let ctxN = 0;
function plan(files: Record<string, string>): BuildPlan {
  const dir = join(work, `ctx${++ctxN}`);
  mkdirSync(dir, { recursive: true });
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return { context: dir, dockerfile: 'Dockerfile', args: {} };
}

async function request(build: BuildPlan, pushRef: string, log: (l: string) => void, signal = new AbortController().signal): Promise<BuildRequest> {
  const context = await loadContext(build);
  return { build, context, contextDigest: await contextDigest(context), pushRef, pullRef: pushRef, log, signal };
}

const refsFor = (repo: string) => (tag: string): ImageRefs => ({ push: `${reg.alias}/${repo}:${tag}`, pull: `${reg.host}/${repo}:${tag}` });

function assertNothingLeft(): void {
  assert.deepEqual(sim.pods(NS).map((p) => p.metadata?.name), [], 'no build pod left');
  assert.deepEqual(sim.secrets(NS).map((s) => s.metadata?.name), [], 'no build secret left');
}

async function timed<T>(what: string, f: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    return await f();
  } finally {
    timings.push(`${what}: ${Math.round(performance.now() - t0)} ms`);
  }
}

describe('kaniko builder', { timeout: 300_000 }, () => {
  before(async () => {
    const docker = await testDocker();
    await kanikoImage(docker);
    work = mkdtempSync(join(tmpdir(), 'wharf-kaniko-'));
    reg = await startRegistry({ auth: 'htpasswd', users: { [USER]: PASS } });
    const engine = new DockerEngine({ host: docker.host });
    try {
      base = await pushBaseImage(engine, docker, reg.host, USER, PASS);
    } finally {
      engine.close();
    }
    sim = await startSimulator({
      namespaces: [{ name: NS, labels: { 'pod-security.kubernetes.io/enforce': 'baseline' } }],
      kubelet: (host) => createDockerKubelet({ host, dockerHost: docker.host, timing: { syncMs: 100, pullBackoffMs: 300, pullBackoffMaxMs: 1000 } }),
    });
  });

  after(async () => {
    await sim?.stop(); // its kubelet removes every container it started
    await reg?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
    if (timings.length) process.stdout.write(`# kaniko timings: ${timings.join('; ')}\n`);
  });

  it('builds in a hardened pod, pushes under the push name, finds it under the pull name; the repeat is skipped', async () => {
    const builder = makeBuilder(creds(PASS));
    const build = plan({ Dockerfile: `FROM ${base}\nRUN echo built > /built\nCOPY hello.txt /hello.txt\n`, 'hello.txt': 'hello kaniko\n' });
    const ref = `${reg.alias}/kaniko/app:direct`;
    const log: string[] = [];
    let seen: V1Pod[] = [];
    let auths: string[] = [];
    const digest = await timed('first build', async () => builder.build(await request(build, ref, (l) => {
      log.push(l);
      if (seen.length === 0 && sim.pods(NS).length > 0) { // while the build runs
        seen = sim.pods(NS) as V1Pod[];
        for (const sec of sim.secrets(NS)) {
          const json = Buffer.from(sec.data?.['.dockerconfigjson'] ?? '', 'base64').toString('utf8');
          auths.push(...Object.keys((JSON.parse(json) as { auths: Record<string, unknown> }).auths));
        }
      }
    })));
    const text = log.join('\n');
    assert.ok(!text.includes(PASS), 'the password is not logged');
    assert.ok(log.some((l) => /RUN echo built/.test(l)), text);
    // The registry's digest, under both names.
    const client = new RegistryClient({ credentials: creds(PASS) });
    assert.equal(digest, await client.resolveDigest(`${reg.host}/kaniko/app:direct`));
    assertNothingLeft();

    // The pod as it ran: baseline-hardened.
    assert.equal(seen.length, 1, 'one build pod while building');
    const pod = seen[0]!;
    assert.equal(pod.metadata?.labels?.['wharf.dev/build'], 'kaniko-test');
    assert.equal(pod.metadata?.labels?.['wharf.dev/attempt-id'], undefined);
    assert.equal(pod.spec?.restartPolicy, 'Never');
    assert.equal(pod.spec?.automountServiceAccountToken, false);
    const c = pod.spec?.containers[0];
    assert.equal(c?.name, 'kaniko');
    assert.equal(c?.image, 'ghcr.io/osscontainertools/kaniko:v1.28.3');
    assert.equal(c?.stdin, true);
    assert.equal(c?.stdinOnce, true);
    assert.deepEqual(c?.args?.slice(0, 4), ['--context=tar://stdin', '--dockerfile=Dockerfile', `--destination=${ref}`, '--digest-file=/dev/termination-log']);
    const sc = c?.securityContext;
    assert.equal(sc?.runAsUser, 0);
    assert.equal(sc?.allowPrivilegeEscalation, false);
    assert.notEqual(sc?.privileged, true);
    assert.deepEqual(sc?.capabilities, { drop: ['ALL'], add: ['CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'SETUID', 'SETGID'] });
    assert.deepEqual(sc?.seccompProfile, { type: 'RuntimeDefault' });
    assert.notEqual(sc?.readOnlyRootFilesystem, true);
    assert.ok(c?.args?.includes('--insecure') && c.args.includes('--insecure-pull'), 'plain http to the loopback registry');
    // Auths for the push host (localhost:P) and the FROM line's host (127.0.0.1:P), nothing else.
    assert.deepEqual(auths.sort(), [reg.host, reg.alias].sort());
    assert.deepEqual(c?.volumeMounts?.map((m) => m.mountPath), ['/kaniko/.docker']);
    assert.deepEqual(pod.spec?.volumes?.[0]?.secret?.items, [{ key: '.dockerconfigjson', path: 'config.json' }]);

    // Through ImageBuilds: built once, then found under its content tag and skipped.
    const images = new ImageBuilds({ builder, refs: refsFor('kaniko/app') });
    const first = await timed('ImageBuilds build', () => images.resolve(build, () => undefined, new AbortController().signal));
    assert.equal(first.built, true);
    // The build runs by the digest Kaniko pushed; a skipped one by its content tag.
    const pushed = await new RegistryClient({ credentials: creds(PASS) }).resolveDigest(`${reg.host}/kaniko/app:${first.tag}`);
    assert.equal(first.image, `${reg.host}/kaniko/app@${pushed}`);
    const again = await timed('ImageBuilds repeat', () => images.resolve(build, () => undefined, new AbortController().signal));
    assert.equal(again.built, false);
    assert.equal(again.image, `${reg.host}/kaniko/app:${first.tag}`);
    assertNothingLeft();
  });

  it('a failing RUN is a BuildError quoting the executor', async () => {
    const builder = makeBuilder(creds(PASS));
    const build = plan({ Dockerfile: `FROM ${base}\nRUN echo wharf-kaniko-broken >&2 && exit 3\n` });
    const err = await timed('failing build', async () => builder.build(await request(build, `${reg.alias}/kaniko/failing:1`, () => undefined)).then(() => undefined, (e: unknown) => e));
    assert.ok(err instanceof BuildError, String(err));
    assert.match(err.message, /exit code 3/);
    assert.match(err.message, /wharf-kaniko-broken/);
    assert.match(err.message, /exit status 3|exit code 3/);
    assertNothingLeft();
  });

  it('wrong credentials are a BuildError that does not carry the password', async () => {
    const builder = makeBuilder(creds(WRONG));
    const build = plan({ Dockerfile: `FROM ${base}\nRUN true\n` });
    const log: string[] = [];
    const err = await timed('wrong credentials', async () => builder.build(await request(build, `${reg.alias}/kaniko/denied:1`, (l) => log.push(l))).then(() => undefined, (e: unknown) => e));
    assert.ok(err instanceof BuildError, String(err));
    assert.match(err.message, /UNAUTHORIZED|unauthorized|401/i);
    for (const secret of [WRONG, Buffer.from(`${USER}:${WRONG}`).toString('base64')]) {
      assert.ok(!err.message.includes(secret), 'no password in the error');
      assert.ok(!log.join('\n').includes(secret), 'no password in the log');
    }
    assertNothingLeft();
  });

  it('a build pod that cannot be scheduled fails after the pending timeout, with the scheduler\'s words', async () => {
    const builder = makeBuilder(creds(PASS), { resources: { requests: { memory: '64Gi' } }, pendingTimeoutMs: 1_500 });
    const build = plan({ Dockerfile: `FROM ${base}\n` });
    const err = await builder.build(await request(build, `${reg.alias}/kaniko/pending:1`, () => undefined)).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof BuildError, String(err));
    assert.match(err.message, /did not start within 2 s: 0\/\d+ nodes are available: .*Insufficient memory/);
    assertNothingLeft();
  });

  it('with a cache repository, a second build of the same RUN takes its layer from the cache', async () => {
    const builder = makeBuilder(creds(PASS), { cacheRepo: `${reg.alias}/kaniko/cache` });
    const dockerfile = `FROM ${base}\nRUN echo cached-step-${Date.now()} > /step\n`;
    const first: string[] = [];
    await timed('cached build, first', async () => builder.build(await request(plan({ Dockerfile: dockerfile }), `${reg.alias}/kaniko/cached:1`, (l) => first.push(l))));
    assert.ok(!first.some((l) => /Using caching version of cmd/.test(l)), first.join('\n'));
    const second: string[] = [];
    await timed('cached build, second', async () => builder.build(await request(plan({ Dockerfile: dockerfile, other: 'x' }), `${reg.alias}/kaniko/cached:2`, (l) => second.push(l))));
    assert.ok(second.some((l) => /Using caching version of cmd: RUN echo cached-step/.test(l)), second.join('\n'));
    assertNothingLeft();
  });

  it('abort deletes the pod at once and rejects with the reason', async () => {
    const builder = makeBuilder(creds(PASS));
    const build = plan({ Dockerfile: `FROM ${base}\nRUN echo wharf-sleeping && sleep 60\n` });
    const ac = new AbortController();
    const reason = new Error('test abort');
    let abortedAt = 0;
    const req = await request(build, `${reg.alias}/kaniko/aborted:1`, (l) => {
      if (l === 'wharf-sleeping' && !ac.signal.aborted) { // the RUN's own output: it is sleeping now
        abortedAt = performance.now();
        ac.abort(reason);
      }
    }, ac.signal);
    await assert.rejects(builder.build(req), (e) => e === reason);
    assert.ok(abortedAt > 0, 'the RUN started');
    timings.push(`abort to rejection, pod deleted: ${Math.round(performance.now() - abortedAt)} ms`);
    assertNothingLeft();
  });
});
