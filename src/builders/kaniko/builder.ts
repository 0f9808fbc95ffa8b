// The Kaniko builder: builds in the cluster, unprivileged (baseline Pod Security), one pod per
// build (see pod.ts for why), the context streamed into its stdin over `attach`, pushed by Kaniko
// itself to the registry, which is also where base images come from and where existence is asked.
// Credentials reach the pod only through a dockerconfigjson Secret deleted with the pod.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { Attach, Log, type KubeConfig, type V1ResourceRequirements } from '@kubernetes/client-node';
import { podApi, type PodApi } from '../../backends/kubernetes/api.js';
import { contextTar } from '../context.js';
import { baseImageRegistries } from '../docker/dockerfile.js';
import { abortReason, BuildError, redact } from '../errors.js';
import { isInsecure, parseImageRef, type CredentialStore, type RegistryClient, type RegistryCredentials } from '../registry/index.js';
import type { Builder, BuildRequest } from '../types.js';
import { DEFAULT_RESOURCES, KANIKO_CONTAINER, kanikoArgs, kanikoPod, kanikoSecret } from './pod.js';
import { watchPod } from './pod-watch.js';

export const DEFAULT_KANIKO_IMAGE = 'ghcr.io/osscontainertools/kaniko:v1.28.3';
const TAIL_LINES = 12;
const ANSI = /\x1b\[[0-9;]*m/g;
const DIGEST = /^sha256:[0-9a-f]{64}$/;
const STDIN_CHANNEL = Buffer.from([0]);
const CLOSE_STDIN = Buffer.from([255, 0]);

export interface KanikoBuilderOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  /** This Wharf instance: the `wharf.dev/build` label of its build pods and secrets. */
  instanceId: string;
  /** The executor image; default ghcr.io/osscontainertools/kaniko:v1.28.3. */
  image?: string;
  registry: {
    client: RegistryClient;
    credentials?: CredentialStore;
    /** Hosts spoken to over plain http besides loopback ones. */
    insecure?: readonly string[];
  };
  /** A repository for Kaniko's layer cache (`--cache=true --cache-repo=…`). */
  cacheRepo?: string;
  /** More executor flags, appended as given. */
  extraFlags?: readonly string[];
  /** The build pod's resources; default requests cpu 500m memory 1Gi, limits memory 2Gi. */
  resources?: V1ResourceRequirements;
  /** Per API call; default 30 s. */
  apiTimeoutMs?: number;
  /** A build pod not started by then (unschedulable, image not pulled) fails the build; default 5 min. */
  pendingTimeoutMs?: number;
  /** Where cleanup failures are told (nobody waits for them). */
  report?: (message: string) => void;
}

export class KanikoBuilder implements Builder {
  readonly name = 'kaniko' as const;
  readonly #opts: KanikoBuilderOptions;
  readonly #api: PodApi;

  constructor(opts: KanikoBuilderOptions) {
    this.#opts = opts;
    this.#api = podApi(opts.kubeConfig, opts.namespace, opts.apiTimeoutMs ?? 30_000);
  }

  async exists(ref: string, signal: AbortSignal): Promise<boolean> {
    return (await this.#opts.registry.client.manifestExists(ref, { signal })).exists;
  }

  /** Builds and pushes `req.pushRef`; resolves with the pushed manifest digest, checked with the registry. */
  async build(req: BuildRequest): Promise<string> {
    const { build, context, pushRef, log, signal } = req;
    if (signal.aborted) throw abortReason(signal);
    const o = this.#opts;
    const pushHost = parseImageRef(pushRef).registry;
    const baseHosts = baseImageRegistries(await readFile(join(context.dir, context.dockerfile), 'utf8'), build.args);
    const creds = this.#credentialsFor([pushHost, ...baseHosts]);
    const secrets = [...creds.values()].flatMap((c) => [c.password, `${c.username}:${c.password}`]);
    const say = (l: string): void => log(redact(l, secrets));
    const name = `wharf-kaniko-${randomBytes(6).toString('hex')}`;
    const insecure = (h: string): boolean => isInsecure(h, o.registry.insecure ?? []);
    const args = kanikoArgs({
      dockerfile: context.dockerfile,
      destination: pushRef,
      buildArgs: build.args,
      ...(build.target !== undefined ? { target: build.target } : {}),
      ...(o.cacheRepo !== undefined ? { cacheRepo: o.cacheRepo } : {}),
      insecurePush: insecure(pushHost) || (o.cacheRepo !== undefined && insecure(parseImageRef(`${o.cacheRepo}:x`).registry)),
      insecurePull: baseHosts.some(insecure),
      extraFlags: o.extraFlags ?? [],
    });
    const tail: string[] = [];
    const line = (raw: string): void => {
      // The executor colours its log levels; a task log is plain text.
      const l = raw.replace(ANSI, '');
      tail.push(l);
      if (tail.length > TAIL_LINES) tail.shift();
      say(l);
    };
    let secretMade = false;
    let podMade = false;
    const stops: (() => void)[] = [];
    const aborted = new Promise<never>((_, reject) => {
      const onAbort = (): void => { reject(abortReason(signal)); };
      signal.addEventListener('abort', onAbort, { once: true });
      stops.push(() => signal.removeEventListener('abort', onAbort));
    });
    aborted.catch(() => undefined);
    const step = <T>(p: Promise<T>): Promise<T> => Promise.race([p, aborted]);
    try {
      if (creds.size > 0) {
        await step(this.#api.createSecret(kanikoSecret(name, o.namespace, o.instanceId, creds)));
        secretMade = true;
      }
      say(`[build] kaniko pod ${name}: building ${pushRef}`);
      await step(this.#api.createPod(kanikoPod({
        name, namespace: o.namespace, instanceId: o.instanceId, image: o.image ?? DEFAULT_KANIKO_IMAGE, args,
        ...(secretMade ? { secretName: name } : {}),
        resources: o.resources ?? DEFAULT_RESOURCES,
      })));
      podMade = true;
      const watch = watchPod(o.kubeConfig, o.namespace, name, o.pendingTimeoutMs ?? 5 * 60_000);
      stops.push(() => watch.stop());
      await step(Promise.race([watch.started, watch.terminated.then(() => undefined)]));
      const logDone = this.#followLog(name, line, stops);
      await step(this.#sendContext(name, req));
      const t = await step(watch.terminated);
      await step(Promise.race([logDone, new Promise((r) => setTimeout(r, 2_000).unref())]));
      if (t.exitCode !== 0) {
        const how = `exit code ${t.exitCode}${t.reason ? `, ${t.reason}` : ''}`;
        throw new BuildError(redact(`kaniko build of ${pushRef} failed (${how})${tail.length ? `:\n${tail.join('\n')}` : ''}`, secrets));
      }
      const reported = (t.message ?? '').trim();
      const digest = await step(o.registry.client.resolveDigest(pushRef, { signal }));
      if (reported !== '' && reported !== digest) {
        throw new BuildError(`kaniko reported pushing ${pushRef} as ${reported.slice(0, 100)}, but the registry has ${digest}`);
      }
      if (!DIGEST.test(digest)) throw new BuildError(`the registry answered ${pushRef} with digest ${digest.slice(0, 100)}, not a sha256 digest`);
      say(`[build] pushed ${pushRef}@${digest}`);
      return digest;
    } catch (e) {
      if (signal.aborted) throw abortReason(signal);
      if (e instanceof BuildError) throw e;
      throw new BuildError(redact(`kaniko build of ${pushRef} in namespace ${o.namespace}: ${e instanceof Error ? e.message : String(e)}`, secrets), { cause: e });
    } finally {
      for (const s of stops) s();
      // On abort the pod goes at once (grace 0): nothing in it is worth waiting for.
      if (podMade) await this.#api.deletePod(name, 0).catch((e: unknown) => this.#report(`cannot delete build pod ${name}: ${String(e)}`));
      if (secretMade) await this.#api.deleteSecret(name).catch((e: unknown) => this.#report(`cannot delete build secret ${name}: ${String(e)}`));
    }
  }

  /**
   * gzip(tar(context)) into the container's stdin over attach, then stdin's end (stdinOnce: EOF).
   * Frames are sent here, not by client-node's stdin pump, which sends whatever it reads at once:
   * each chunk waits for the socket to take the previous one, so a large context is not buffered.
   */
  async #sendContext(name: string, req: BuildRequest): Promise<void> {
    const idle = new PassThrough(); // asks for stdin; never written: the frames go below
    const ws = await new Attach(this.#opts.kubeConfig).attach(this.#opts.namespace, name, KANIKO_CONTAINER, null, null, idle, false);
    const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
    const send = (data: Buffer): Promise<void> => new Promise((resolve, reject) => {
      if (ws.readyState !== ws.OPEN) {
        reject(new BuildError(`the attach connection to build pod ${name} closed while the build context was being sent`));
        return;
      }
      ws.send(data, (err) => (err ? reject(err) : resolve()));
    });
    const sink = new Writable({
      write: (chunk: Buffer, _enc, cb) => { send(Buffer.concat([STDIN_CHANNEL, chunk])).then(() => cb(), cb); },
    });
    const tar = contextTar(req.context);
    const stop = (): void => { tar.destroy(abortReason(req.signal)); };
    req.signal.addEventListener('abort', stop, { once: true });
    try {
      await pipeline(tar, createGzip(), sink);
      // v5 closes stdin alone (channel 255, stream 0); older protocols can only close the socket.
      if (ws.protocol.startsWith('v5.')) await send(CLOSE_STDIN);
      else ws.close();
      // The socket closes when the container's streams do; the pod watch says how it ended.
      await Promise.race([closed, new Promise((r) => setTimeout(r, 1_000).unref())]);
    } finally {
      req.signal.removeEventListener('abort', stop);
      idle.destroy();
      if (ws.readyState === ws.OPEN) ws.close();
    }
  }

  /** The container's log, followed, one line at a time. Resolves when the log ends. */
  #followLog(name: string, line: (l: string) => void, stops: (() => void)[]): Promise<void> {
    let rest = '';
    return new Promise<void>((resolve) => {
      const sink = new Writable({
        write: (chunk: Buffer, _enc, cb) => {
          rest += chunk.toString('utf8');
          const lines = rest.split('\n');
          rest = lines.pop() ?? '';
          for (const l of lines) line(l.replace(/\r$/, ''));
          cb();
        },
        final: (cb) => {
          if (rest !== '') line(rest);
          rest = '';
          cb();
        },
      });
      sink.on('finish', () => resolve());
      sink.on('error', () => resolve());
      new Log(this.#opts.kubeConfig).log(this.#opts.namespace, name, KANIKO_CONTAINER, sink, { follow: true }).then(
        (c) => stops.push(() => c.abort()),
        (e: unknown) => {
          this.#report(`cannot follow the log of build pod ${name}: ${e instanceof Error ? e.message : String(e)}`);
          resolve();
        },
      );
    });
  }

  #report(message: string): void {
    (this.#opts.report ?? ((m: string) => { process.stderr.write(`wharf kaniko: ${m}\n`); }))(message);
  }

  #credentialsFor(hosts: readonly string[]): Map<string, RegistryCredentials> {
    const out = new Map<string, RegistryCredentials>();
    for (const h of hosts) {
      const c = this.#opts.registry.credentials?.get(h);
      if (c && !out.has(h)) out.set(h, c);
    }
    return out;
  }
}
