// The docker builder: POST /build with the context tar streamed as the body (classic builder,
// no network for RUN), then a push to the registry when one is configured. Without a registry
// the image stays in the engine, and existence is asked of the engine.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { EngineError, type DockerEngine } from '../../docker/index.js';
import { contextTar } from '../context.js';
import { abortReason, BuildContextError, BuildError, redact } from '../errors.js';
import { credentialKey, parseImageRef, registryAuthHeader, type CredentialStore, type RegistryClient, type RegistryCredentials } from '../registry/index.js';
import type { Builder, BuildRequest } from '../types.js';
import { baseImageRegistries } from './dockerfile.js';
import { followBuild, followPush, Tail, type BuildState } from './progress.js';

export interface DockerBuilderOptions {
  engine: DockerEngine;
  /** Push built images and look them up there; absent: images stay in the engine (local only). */
  registry?: {
    client: RegistryClient;
    credentials?: CredentialStore;
  };
}

export class DockerBuilder implements Builder {
  readonly name = 'docker' as const;
  readonly #engine: DockerEngine;
  readonly #registry: DockerBuilderOptions['registry'];

  constructor(opts: DockerBuilderOptions) {
    this.#engine = opts.engine;
    this.#registry = opts.registry;
  }

  async exists(ref: string, signal: AbortSignal): Promise<boolean> {
    if (this.#registry) return (await this.#registry.client.manifestExists(ref, { signal })).exists;
    try {
      await this.#engine.request('GET', `/images/${ref}/json`, { signal });
      return true;
    } catch (e) {
      if (e instanceof EngineError && e.status === 404) return false;
      throw e;
    }
  }

  async build(req: BuildRequest): Promise<void> {
    const { build, context, pushRef, pullRef, log, signal } = req;
    const dockerfileText = await readFile(join(context.dir, context.dockerfile), 'utf8');
    const pullCreds = this.#credentialsFor(baseImageRegistries(dockerfileText, build.args));
    const secrets = [...pullCreds.values()].flatMap(secretForms);
    const tail = new Tail();
    const headers: Record<string, string> = { 'content-type': 'application/x-tar' };
    if (pullCreds.size > 0) headers['x-registry-config'] = registryConfigHeader(pullCreds);
    const query = {
      t: pushRef,
      dockerfile: context.dockerfile,
      buildargs: Object.keys(build.args).length > 0 ? build.args : undefined,
      target: build.target,
      rm: true,
      forcerm: true,
      networkmode: 'none',
    };
    const safeLog = (l: string): void => log(redact(l, secrets));
    const state: BuildState = {};
    const sent = createHash('sha256');
    const body = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        sent.update(chunk);
        cb(null, chunk);
      },
    });
    // pipeline: when the engine client drops the body, reading the disk stops too.
    const tarDone = pipeline(contextTar(context), body).then(() => undefined, (err: unknown) => err);
    try {
      const res = await this.#engine.stream('POST', '/build', { query, body, headers, signal });
      await followBuild(res, safeLog, tail, state);
    } catch (e) {
      body.destroy();
      if (signal.aborted) {
        if (state.container !== undefined) await this.#removeContainer(state.container);
        throw abortReason(signal);
      }
      // A file that could not be read (or changed size) is the context's fault, not the engine's.
      const tarError = await tarDone;
      if (tarError instanceof BuildContextError) throw tarError;
      const shown = tail.text();
      throw new BuildError(redact(`docker build of ${pushRef} failed: ${messageOf(e)}${shown ? `\nlast output:\n${shown}` : ''}`, secrets), { cause: e });
    }
    if (`sha256:${sent.digest('hex')}` !== req.contextDigest) {
      // Files changed between tagging and sending: this image does not have the tag's content.
      await this.#engine.request('DELETE', `/images/${pushRef}`).catch(() => undefined);
      throw new BuildError(`the build context ${context.dir} changed while ${pushRef} was being built; the image was discarded — retry once the files no longer change`);
    }
    if (this.#registry) await this.#push(pushRef, safeLog, signal);
    // A task run by this engine under the pull name then needs no pull of what was just built.
    if (pullRef !== pushRef) await this.#tag(pushRef, pullRef, signal);
  }

  async #push(ref: string, log: (line: string) => void, signal: AbortSignal): Promise<void> {
    const r = parseImageRef(ref);
    const creds = this.#registry?.credentials?.get(r.registry);
    const secrets = creds ? secretForms(creds) : [];
    // The engine wants the header even for anonymous pushes; `{}` is Docker's own empty form.
    const auth = creds ? registryAuthHeader(creds, r.registry) : base64url('{}');
    log(`[build] pushing ${ref}`);
    try {
      const res = await this.#engine.stream('POST', `/images/${r.registry}/${r.repository}/push`, {
        query: { tag: r.tag },
        headers: { 'x-registry-auth': auth },
        signal,
      });
      await followPush(res, (l) => log(redact(l, secrets)));
    } catch (e) {
      if (signal.aborted) throw abortReason(signal);
      const who = creds ? `as user ${JSON.stringify(creds.username)}` : 'without credentials';
      throw new BuildError(redact(`pushing ${ref} to registry ${r.registry} ${who} failed: ${messageOf(e)}`, secrets), { cause: e });
    }
  }

  /**
   * The engine cancels a build whose client went away, but in its own time; remove the step's
   * container now and wait until it is gone, so nothing of the build outlives its abort.
   */
  async #removeContainer(id: string): Promise<void> {
    const timeoutMs = 15_000;
    await this.#engine.request('DELETE', `/containers/${id}`, { query: { force: true }, timeoutMs }).catch(() => undefined);
    await this.#engine.request('POST', `/containers/${id}/wait`, { query: { condition: 'removed' }, timeoutMs }).catch(() => undefined);
  }

  async #tag(from: string, to: string, signal: AbortSignal): Promise<void> {
    const r = parseImageRef(to);
    try {
      await this.#engine.request('POST', `/images/${from}/tag`, { query: { repo: `${r.registry}/${r.repository}`, tag: r.tag }, signal });
    } catch (e) {
      if (signal.aborted) throw abortReason(signal);
      throw new BuildError(`tagging ${from} as ${to} in the engine failed: ${messageOf(e)}`, { cause: e });
    }
  }

  #credentialsFor(hosts: readonly string[]): Map<string, RegistryCredentials> {
    const out = new Map<string, RegistryCredentials>();
    for (const h of hosts) {
      const c = this.#registry?.credentials?.get(h);
      if (c) out.set(h, c);
    }
    return out;
  }
}

/**
 * Docker's X-Registry-Config: base64url of `{host: {username, password, serveraddress}}`, the
 * credentials the engine may use to pull base images.
 */
export function registryConfigHeader(creds: ReadonlyMap<string, RegistryCredentials>): string {
  const config: Record<string, { username: string; password: string; serveraddress: string }> = {};
  for (const [host, c] of creds) config[credentialKey(host)] = { username: c.username, password: c.password, serveraddress: credentialKey(host) };
  return base64url(JSON.stringify(config));
}

/** Go's base64.URLEncoding, which the engine decodes with: URL alphabet, padded. */
function base64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

function secretForms(c: RegistryCredentials): string[] {
  return [c.password, `${c.username}:${c.password}`];
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
