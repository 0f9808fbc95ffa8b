// Puts the test busybox image into a test registry (builds here can pull from nowhere else) and
// drops its local tag, so that whoever uses it must really pull it, with credentials.
import { registryAuthHeader, registryCredentials } from '../../src/builders/registry/index.js';
import type { DockerEngine } from '../../src/docker/engine.js';
import { jsonLines } from '../../src/docker/streams.js';
import type { TestDocker } from './docker.js';

/** Returns the reference it was pushed as: `<host>/base/busybox:1`. */
export async function pushBaseImage(engine: DockerEngine, docker: TestDocker, host: string, user: string, password: string): Promise<string> {
  const repo = `${host}/base/busybox`;
  await engine.request('POST', `/images/${docker.busybox}/tag`, { query: { repo, tag: '1' } });
  const res = await engine.stream('POST', `/images/${repo}/push`, { query: { tag: '1' }, headers: { 'x-registry-auth': registryAuthHeader(registryCredentials(user, password), host) } });
  for await (const _ of jsonLines(res)) { /* drain: a failure throws */ }
  await engine.request('DELETE', `/images/${repo}:1`);
  return `${repo}:1`;
}
