// The real Kaniko executor image for the tests, made in the test engine by the shared tool's
// make-image.sh (nothing can be pulled here). Found through WHARF_KANIKO_DIR (.ci/run sets it),
// else beside the repository as ../shared/tools/kaniko.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { TestDocker } from './docker.js';

export const KANIKO_IMAGE = 'ghcr.io/osscontainertools/kaniko:v1.28.3';

let made: Promise<string> | undefined;

export function kanikoImage(docker: TestDocker): Promise<string> {
  made ??= (async () => {
    // dist/test/infra → the repository → its sibling "shared".
    const dir = process.env.WHARF_KANIKO_DIR ?? fileURLToPath(new URL('../../../../shared/tools/kaniko', import.meta.url));
    const script = join(dir, 'make-image.sh');
    if (!existsSync(script)) throw new Error(`the Kaniko image script is missing: expected ${script} (set WHARF_KANIKO_DIR to the shared tools/kaniko directory)`);
    await promisify(execFile)(script, [], { env: { ...process.env, DOCKER_HOST: docker.host }, timeout: 120_000 });
    return KANIKO_IMAGE;
  })();
  return made;
}
