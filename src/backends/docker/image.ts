// Makes sure the engine has a run's image: inspect it, and pull it only when it is missing.
import type { DockerEngine } from '../../docker/engine.js';
import { EngineError } from '../../docker/errors.js';
import { jsonLines } from '../../docker/streams.js';
import { ImageRefError, parseImageRef, registryAuthHeader, type CredentialStore } from '../../builders/registry/index.js';

export type RegistryCredentials = CredentialStore;

/** A pull can take long; the engine may be quiet between its progress lines for a while. */
const PULL_TIMEOUT_MS = 15 * 60_000;

/**
 * Resolves with the reason the image cannot be had (the engine's or registry's own words, e.g.
 * "pull access denied for x, repository does not exist…"), or undefined when it is there.
 * Rejects only when the engine itself fails (unreachable).
 */
export async function ensureImage(engine: DockerEngine, ref: string, credentials: RegistryCredentials | undefined): Promise<string | undefined> {
  let image;
  try {
    image = parseImageRef(ref);
  } catch (e) {
    if (e instanceof ImageRefError) return e.message;
    throw e;
  }
  try {
    // parseImageRef let only [A-Za-z0-9._/:@-] through: safe in a path as it is.
    await engine.request('GET', `/images/${ref}/json`);
    return undefined;
  } catch (e) {
    if (!(e instanceof EngineError) || e.status !== 404) return reasonOf(e);
  }
  const headers: Record<string, string> = {};
  const creds = credentials?.get(image.registry);
  if (creds) headers['x-registry-auth'] = registryAuthHeader(creds, image.registry);
  // The engine takes the name without tag or digest, and the tag or digest apart.
  const fromImage = image.registry === 'docker.io' ? image.repository : `${image.registry}/${image.repository}`;
  const tag = image.digest ?? image.tag ?? 'latest';
  try {
    const res = await engine.stream('POST', '/images/create', { query: { fromImage, tag }, headers, timeoutMs: PULL_TIMEOUT_MS });
    for await (const progress of jsonLines(res)) void progress; // read to the end: a failure comes as its last line
    return undefined;
  } catch (e) {
    return reasonOf(e);
  }
}

function reasonOf(e: unknown): string {
  if (e instanceof EngineError && e.status !== 0) return e.message;
  throw e;
}
