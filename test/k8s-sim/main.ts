// Standalone simulator: `node dist/test/k8s-sim/main.js [--port P] [--namespace NS]… [--token T]
// [--version 1.32|1.34] [--no-tls]`. Runs pods as Docker containers when DOCKER_HOST is set (and
// the kubelet module is there); writes a kubeconfig file and prints its path; stops on SIGINT/SIGTERM.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startSimulator, type SimulatorOptions } from './index.js';
import type { Kubelet, PodHost } from './types.js';

type DockerKubeletFactory = (opts: { host: PodHost; dockerHost: string }) => Kubelet;

async function dockerKubelet(dockerHost: string): Promise<((host: PodHost) => Kubelet) | undefined> {
  const specifier = './kubelet/index.js'; // not a literal: the module may not be built yet
  let mod: unknown;
  try {
    mod = await import(specifier);
  } catch (e) {
    process.stderr.write(`k8s-sim: no Docker kubelet (${e instanceof Error ? e.message : String(e)}); pods will stay Pending\n`);
    return undefined;
  }
  const create = (mod as { createDockerKubelet?: unknown }).createDockerKubelet;
  if (typeof create !== 'function') {
    process.stderr.write('k8s-sim: ./kubelet/index.js has no createDockerKubelet; pods will stay Pending\n');
    return undefined;
  }
  return (host) => (create as DockerKubeletFactory)({ host, dockerHost });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      namespace: { type: 'string', multiple: true },
      token: { type: 'string' },
      version: { type: 'string' },
      'no-tls': { type: 'boolean' },
    },
  });
  const opts: SimulatorOptions = { namespaces: values.namespace ?? ['default'] };
  if (values.port) opts.port = Number(values.port);
  if (values.token) opts.token = values.token;
  if (values.version === '1.32' || values.version === '1.34') opts.version = values.version;
  else if (values.version) throw new Error(`--version must be 1.32 or 1.34, not ${values.version}`);
  if (values['no-tls']) opts.tls = false;
  const dockerHost = process.env['DOCKER_HOST'];
  if (dockerHost) {
    const kubelet = await dockerKubelet(dockerHost);
    if (kubelet) opts.kubelet = kubelet;
  }
  const sim = await startSimulator(opts);
  const dir = mkdtempSync(join(tmpdir(), 'k8s-sim-'));
  const file = join(dir, 'kubeconfig');
  writeFileSync(file, sim.kubeConfigYaml(), { mode: 0o600 });
  process.stdout.write(`${file}\n`);
  process.stderr.write(`k8s-sim: serving ${sim.url}\n`);
  const stop = async (): Promise<void> => {
    await sim.stop();
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  };
  process.once('SIGINT', () => { void stop(); });
  process.once('SIGTERM', () => { void stop(); });
}

main().catch((e: unknown) => {
  process.stderr.write(`k8s-sim: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
