// Tasks with a `build` through a real `wharf serve`, with each builder: built and pushed to an
// authenticated loopback registry under one name, run from another name of the same registry,
// skipped when unchanged, rebuilt after a one-byte change; wrong credentials say so, secretly.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dockerConfigJson, registryCredentials } from '../../src/builders/registry/index.js';
import { DockerEngine } from '../../src/docker/engine.js';
import type { JobView } from '../../src/spec/api.js';
import { allLogs, jobEnd, submit } from '../helpers/api.js';
import { cliEnv, startServer, tempHome, type Server } from '../helpers/cli.js';
import { pushBaseImage } from '../infra/base-image.js';
import { testDocker, type TestDocker } from '../infra/docker.js';
import { startRegistry, type TestRegistry } from '../infra/registry.js';

const USER = 'builder';
const PASSWORD = 'pw-4b1d-e2e';
const WRONG = 'not-the-pw-9f3c';

describe('tasks with a build', { timeout: 300_000 }, () => {
  const home = tempHome();
  let docker: TestDocker;
  let engine: DockerEngine;
  let registry: TestRegistry;
  let base: string;
  const servers: Server[] = [];

  /** A docker config.json with the password for both names of the registry. */
  const config = (name: string, password: string): string => {
    const file = join(home.dir, `${name}-config.json`);
    const creds = registryCredentials(USER, password);
    writeFileSync(file, dockerConfigJson({ [registry.host]: creds, [registry.alias]: creds }), { mode: 0o600 });
    return file;
  };

  const serve = async (name: string, args: string[]): Promise<Server> => {
    const s = await startServer(['--docker', 'on', ...args], cliEnv({ WHARF_HOME: join(home.dir, name), DOCKER_HOST: docker.host }));
    servers.push(s);
    return s;
  };

  const context = (msg: string): string => {
    const dir = mkdtempSync(join(home.dir, 'ctx-'));
    writeFileSync(join(dir, 'Dockerfile'), `FROM ${base}\nCOPY msg /msg\nRUN echo built > /built\n`);
    writeFileSync(join(dir, 'msg'), msg);
    return dir;
  };

  const run = async (server: Server, dir: string): Promise<{ end: JobView; out: string; system: string }> => {
    const job = await submit(server, { name: 'b', tasks: { app: { build: { context: dir }, command: ['cat', '/msg', '/built'] } } });
    const end = await jobEnd(server, job.id);
    const logs = await allLogs(server, job.id);
    const text = (stream: string): string => logs.filter((l) => l.stream === stream).map((l) => l.text).join('');
    return { end, out: text('stdout'), system: text('system') };
  };

  before(async () => {
    docker = await testDocker();
    engine = new DockerEngine({ host: docker.host });
    registry = await startRegistry({ auth: 'htpasswd', users: { [USER]: PASSWORD } });
    base = await pushBaseImage(engine, docker, registry.host, USER, PASSWORD);
  });
  after(async () => {
    for (const s of servers) await s.stop();
    await registry?.stop();
    engine?.close();
    home.cleanup();
  });

  for (const builder of ['docker', 'buildah'] as const) {
    test(`${builder}: builds and pushes under ${'localhost'}, runs from 127.0.0.1, skips an unchanged build, rebuilds a one-byte change`, async () => {
      const server = await serve(builder, [
        '--builder', builder, '--registry-push', `${registry.alias}/wharf-${builder}`, '--registry-pull', `${registry.host}/wharf-${builder}`,
        '--docker-config', config(builder, PASSWORD),
      ]);
      const dir = context('hello\n');
      const first = await run(server, dir);
      assert.equal(first.end.state, 'succeeded', first.system);
      assert.equal(first.out, 'hello\nbuilt\n');
      assert.match(first.system, new RegExp(`\\[build\\] building ${registry.alias}/wharf-${builder}/builds:[0-9a-f]{32} with ${builder}`));
      assert.match(first.system, new RegExp(`\\[build\\] the task runs ${registry.host}/wharf-${builder}/builds:[0-9a-f]{32}`));

      const second = await run(server, dir);
      assert.equal(second.end.state, 'succeeded', second.system);
      assert.equal(second.out, 'hello\nbuilt\n');
      assert.match(second.system, /exists, build skipped/);
      assert.doesNotMatch(second.system, /\[build\] building/);

      writeFileSync(join(dir, 'msg'), 'hellO\n');
      const third = await run(server, dir);
      assert.equal(third.end.state, 'succeeded', third.system);
      assert.equal(third.out, 'hellO\nbuilt\n');
      assert.match(third.system, /\[build\] building/);
    });
  }

  test('wrong registry credentials fail the task with a clear message that holds no password', async () => {
    const server = await serve('wrong', [
      '--builder', 'docker', '--registry-push', `${registry.alias}/wharf-wrong`, '--registry-pull', `${registry.host}/wharf-wrong`,
      '--docker-config', config('wrong', WRONG),
    ]);
    const { end, system } = await run(server, context('x\n'));
    assert.equal(end.state, 'failed');
    const outcome = end.tasks[0]?.attempts[0]?.outcome;
    assert.equal(outcome?.kind, 'start_failed');
    const reason = outcome?.kind === 'start_failed' ? outcome.reason : '';
    assert.match(reason, /building the image: .*(unauthorized|authentication required)/);
    assert.match(reason, new RegExp(registry.alias.replace(/[.]/g, '\\.')));
    for (const text of [reason, system, JSON.stringify(end), server.stderr()]) {
      assert.ok(!text.includes(WRONG) && !text.includes(Buffer.from(WRONG).toString('base64')), `a password in: ${text}`);
    }
    // Nor in anything the server stored.
    const stored = join(home.dir, 'wrong');
    const files = readdirSync(stored, { recursive: true }).map(String).filter((f) => statSync(join(stored, f)).isFile());
    for (const f of files) assert.ok(!readFileSync(join(stored, f)).includes(WRONG), `${f} holds the password`);
  });
});
