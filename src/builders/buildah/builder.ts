// The buildah builder: daemonless builds (`buildah bud`, vfs storage, no network for RUN), pushed
// to the registry, which is also where base images come from and where existence is asked.
// Credentials reach buildah only through a temporary 0600 authfile, never its argv.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { baseImageRegistries } from '../docker/dockerfile.js';
import { BuildError, redact } from '../errors.js';
import { dockerConfigJson, isInsecure, parseImageRef, type CredentialStore, type RegistryClient, type RegistryCredentials } from '../registry/index.js';
import type { Builder, BuildRequest } from '../types.js';
import { runBuildah, type RunResult } from './run.js';

export interface BuildahBuilderOptions {
  /** buildah's storage (`--root`) and run state (`--runroot`); the caller owns both directories. */
  root: string;
  runroot: string;
  registry: {
    client: RegistryClient;
    credentials?: CredentialStore;
    /** Hosts spoken to over plain http besides loopback ones. */
    insecure?: readonly string[];
  };
  /** Keep intermediate layers as a cache for later builds (vfs copies each: costs disk). */
  layers?: boolean;
  /** The buildah executable; default "buildah". */
  bin?: string;
  /** After SIGTERM on abort, how long buildah may clean up before SIGKILL; default 5 s. */
  killGraceMs?: number;
}

export class BuildahBuilder implements Builder {
  readonly name = 'buildah' as const;
  readonly #opts: BuildahBuilderOptions;

  constructor(opts: BuildahBuilderOptions) {
    this.#opts = opts;
  }

  async exists(ref: string, signal: AbortSignal): Promise<boolean> {
    return (await this.#opts.registry.client.manifestExists(ref, { signal })).exists;
  }

  async build(req: BuildRequest): Promise<void> {
    const { build, context, pushRef, log, signal } = req;
    const dockerfile = join(context.dir, context.dockerfile);
    const pushHost = parseImageRef(pushRef).registry;
    const baseHosts = baseImageRegistries(await readFile(dockerfile, 'utf8'), build.args);
    const creds = this.#credentialsFor([pushHost, ...baseHosts]);
    const secrets = [...creds.values()].flatMap((c) => [c.password, `${c.username}:${c.password}`]);
    const say = (l: string): void => log(redact(l, secrets));
    const dir = await mkdtemp(join(tmpdir(), 'wharf-buildah-'));
    try {
      const authfile = join(dir, 'auth.json');
      await writeFile(authfile, creds.size > 0 ? dockerConfigJson(creds) : '{"auths":{}}', { mode: 0o600 });
      // One --tls-verify for all pulls: off only when every known base registry is insecure.
      const pullTls = !(baseHosts.length > 0 && baseHosts.every((h) => this.#insecure(h)));
      const bud = [
        'bud', '--network', 'none', '--format', 'docker',
        '-f', dockerfile, '-t', pushRef, '--authfile', authfile, `--tls-verify=${pullTls}`,
        ...Object.entries(build.args).flatMap(([k, v]) => ['--build-arg', `${k}=${v}`]),
        ...(build.target !== undefined ? ['--target', build.target] : []),
        // Without --layers buildah keeps no intermediate containers; with it, drop failed ones too.
        ...(this.#opts.layers ? ['--layers', '--force-rm'] : []),
        // The context's own .dockerignore, so a .containerignore cannot change what is sent.
        ...(existsSync(join(context.dir, '.dockerignore')) ? ['--ignorefile', join(context.dir, '.dockerignore')] : []),
        context.dir,
      ];
      const built = await this.#run(bud, say, signal);
      if (built.code !== 0) throw failure(`buildah bud of ${pushRef} failed`, built, secrets);
      try {
        say(`[build] pushing ${pushRef}`);
        const push = ['push', '--authfile', authfile, `--tls-verify=${!this.#insecure(pushHost)}`, pushRef, `docker://${pushRef}`];
        const pushed = await this.#run(push, say, signal);
        if (pushed.code !== 0) {
          const who = creds.has(pushHost) ? `as user ${JSON.stringify(creds.get(pushHost)?.username)}` : 'without credentials';
          throw failure(`pushing ${pushRef} to registry ${pushHost} ${who} failed`, pushed, secrets);
        }
      } finally {
        // The registry holds the image now; vfs storage keeps full copies, so do not hoard it.
        await this.#run(['rmi', pushRef], () => undefined, new AbortController().signal).catch(() => undefined);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  #run(args: readonly string[], log: (line: string) => void, signal: AbortSignal): Promise<RunResult> {
    const o = this.#opts;
    const argv = ['--root', o.root, '--runroot', o.runroot, '--storage-driver', 'vfs', ...args];
    return runBuildah(o.bin ?? 'buildah', argv, { log, signal, killGraceMs: o.killGraceMs ?? 5_000 }).catch((e: unknown) => {
      if (signal.aborted) throw e;
      throw new BuildError(`cannot run ${o.bin ?? 'buildah'}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    });
  }

  #insecure(host: string): boolean {
    return isInsecure(host, this.#opts.registry.insecure ?? []);
  }

  #credentialsFor(hosts: readonly string[]): Map<string, RegistryCredentials> {
    const out = new Map<string, RegistryCredentials>();
    for (const h of hosts) {
      const c = this.#opts.registry.credentials?.get(h);
      if (c) out.set(h, c);
    }
    return out;
  }
}

function failure(what: string, r: RunResult, secrets: readonly string[]): BuildError {
  const how = r.code !== null ? `exit code ${r.code}` : `signal ${r.signal ?? '?'}`;
  return new BuildError(redact(`${what} (${how})${r.stderrTail ? `:\n${r.stderrTail}` : ''}`, secrets));
}
