// The Docker engine of the tests: the one test/run.mjs started for the whole run (described in
// WHARF_TEST_DOCKER), or, when a test file runs alone, one started for this process by the same
// daemon script, which stops it and removes its files when this process's end closes its stdin.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

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
    const daemon = spawn(process.execPath, [new URL('./docker-daemon.js', import.meta.url).pathname], { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = createInterface({ input: daemon.stdout });
    const [line] = (await once(lines, 'line')) as [string];
    lines.close();
    // Neither the daemon nor its pipes keep this process alive; its exit closes the pipe.
    daemon.unref();
    for (const s of [daemon.stdin, daemon.stdout]) (s as unknown as { unref?: () => void }).unref?.();
    const started = JSON.parse(line) as { ok?: TestDocker; error?: string };
    if (!started.ok) throw new Error(`could not start Docker: ${started.error ?? line}`);
    return started.ok;
  })();
  return mine;
}
