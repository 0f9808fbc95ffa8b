// `wharf serve`: the API server with an embedded worker, on 127.0.0.1:5255 by default.
// SIGTERM/SIGINT drain: stop claiming, let running attempts finish until --drain-timeout, stop
// the rest, close the server and the store.
import { ApiError } from '../../client/types.js';
import { formatError } from '../../core/format-error.js';
import { MEMORY_RE } from '../../spec/schema.js';
import { memoryBytes } from '../../spec/plan.js';
import { wharfHome } from '../context.js';
import { duration, wholeNumber } from '../flags.js';
import { containerOptions, loadPolicy, type ContainerFlags } from '../runtime-config.js';

export interface ServeOptions {
  host: string;
  port: string;
  db?: string;
  concurrency?: string;
  lease: string;
  grace: string;
  drainTimeout: string;
  logCap?: string;
  policy?: string;
}

export async function serve(o: ServeOptions & ContainerFlags): Promise<number> {
  const port = wholeNumber('--port', o.port, 0);
  const leaseMs = duration('--lease', o.lease);
  const graceMs = duration('--grace', o.grace);
  const drainMs = duration('--drain-timeout', o.drainTimeout);
  const worker: { leaseMs: number; graceMs: number; concurrency?: number; logCapBytes?: number } = { leaseMs, graceMs };
  if (o.concurrency !== undefined) worker.concurrency = wholeNumber('--concurrency', o.concurrency, 1);
  if (o.logCap !== undefined) {
    if (!MEMORY_RE.test(o.logCap)) throw new ApiError('invalid', `--log-cap: expected a size such as "64Mi", got ${JSON.stringify(o.logCap)}`);
    worker.logCapBytes = memoryBytes(o.logCap);
  }

  const [{ openRuntime }, { startServer }] = await Promise.all([import('../../runtime/runtime.js'), import('../../server/listen.js')]);
  const home = wharfHome();
  const containers = containerOptions(o);
  const policy = await loadPolicy(o.policy);
  const rt = await openRuntime({ home, ...(o.db ? { db: o.db } : {}), metrics: true, containers, ...(policy ? { policy } : {}) });
  for (const note of rt.notes) process.stderr.write(`wharf: ${note}\n`);
  const w = await rt.startWorker(worker);
  const metrics = rt.metrics;
  const server = await startServer({
    host: o.host, port, service: rt.service, store: rt.store, isReady: () => w.alive,
    ...(metrics ? { metrics: () => metrics.scrape() } : {}),
  });
  process.stderr.write(`wharf: listening on ${server.url} (API; worker ${w.id}, home ${home})\n`);
  if (!isLoopback(o.host)) {
    // Tokens come with the security work; until then say plainly what this exposes.
    process.stderr.write(`wharf: warning: ${o.host} is not a loopback address and the API has no authentication yet: ` +
      'anyone who can reach it can run commands on this host\n');
  }

  return new Promise<number>((resolve) => {
    let stopping = false;
    const shutdown = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      process.stderr.write(`wharf: ${signal}: draining (up to ${o.drainTimeout})\n`);
      // Stop claiming and finish attempts first, then stop answering.
      w.drain(drainMs)
        .then(() => server.close())
        .then(() => rt.close(0))
        .then(() => resolve(0), (e: unknown) => {
          process.stderr.write(`wharf: shutting down: ${formatError(e)}\n`);
          resolve(1);
        });
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
  });
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
