// The Docker engine of the tests: the one test/run.mjs started for the whole run (described in
// WHARF_TEST_DOCKER), or, when a test file runs alone, one started for this process.
import { importBusybox } from './busybox.js';
import { startDockerd } from './dockerd.js';

export interface TestDocker {
  /** DOCKER_HOST form: unix:///… */
  host: string;
  socketPath: string;
  /** A local busybox image, CMD ["sh"]. */
  busybox: string;
}

let mine: Promise<TestDocker> | undefined;

export function testDocker(): Promise<TestDocker> {
  const shared = process.env.WHARF_TEST_DOCKER;
  if (shared) return Promise.resolve(JSON.parse(shared) as TestDocker);
  const failed = process.env.WHARF_TEST_DOCKER_ERROR;
  if (failed) return Promise.reject(new Error(`the test run could not start Docker: ${failed}`));
  mine ??= (async () => {
    const d = await startDockerd();
    // A test process has no async exit hook; dockerd stops its containers on SIGTERM.
    process.once('exit', () => { void d.stop(); });
    return { host: d.host, socketPath: d.socketPath, busybox: await importBusybox(d.socketPath) };
  })();
  return mine;
}
