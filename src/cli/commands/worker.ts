// `wharf worker`: a standalone worker. It opens the same store as the API server (--db, WHARF_DB),
// claims attempts for the backends it is given, registers itself (`wharf workers` lists it) and
// beats; it serves no HTTP. SIGTERM/SIGINT drain as `wharf serve` does. Also `wharf workers`.
import { ApiError } from '../../client/types.js';
import { formatError } from '../../core/format-error.js';
import { BACKENDS, type BackendName } from '../../spec/schema.js';
import { redactDbUrl } from '../../store/postgres/url.js';
import { wharfHome, withApi } from '../context.js';
import { duration, parsePairs } from '../flags.js';
import { dbSetting, heartbeatSetting, logLevel, workerSettings, type DbFlags, type WorkerFlags } from '../process-setup.js';
import { formatWorkerTable, processOut } from '../output.js';
import { containerOptions, type ContainerFlags } from '../runtime-config.js';

export interface WorkerCommandOptions extends DbFlags, WorkerFlags, ContainerFlags {
  backend: string[];
  label: string[];
  drainTimeout: string;
  logLevel?: string;
}

export async function worker(o: WorkerCommandOptions): Promise<number> {
  const settings = workerSettings(o);
  const drainMs = duration('--drain-timeout', o.drainTimeout);
  const heartbeatMs = heartbeatSetting(o.heartbeat);
  const labels = parsePairs('--label', o.label);
  const backends = o.backend.map(backendName);
  const level = logLevel(o.logLevel);
  const [{ openRuntime, MissingBackendError }, { pinoLogger, pinoLog }] = await Promise.all([
    import('../../runtime/runtime.js'), import('../../runtime/log.js'),
  ]);
  const logger = pinoLogger(level);
  const log = pinoLog(logger);
  // When it starts and stops is said whatever the level.
  const announce = pinoLog(logger.child({}, { level: 'info' }));
  const home = wharfHome();
  const containers = containerOptions(o);
  const db = await dbSetting(o, log, 'wharf worker');
  const rt = await openRuntime({ home, ...(db ? { db } : {}), containers, log, ...(heartbeatMs ? { heartbeatMs } : {}) });
  for (const note of rt.notes) log.info(note);
  let w;
  try {
    w = await rt.startWorker({ ...settings, labels, ...(backends.length ? { backends: [...new Set(backends)] } : {}) });
  } catch (e) {
    await rt.close(0);
    throw e instanceof MissingBackendError ? new ApiError('invalid', `--backend: ${e.message}`) : e;
  }
  const started = w;
  announce.info(`worker ${started.id} started (no HTTP)`, { home, db: db ? redactDbUrl(db) : undefined, worker: started.id });

  return new Promise<number>((resolve) => {
    let stopping = false;
    const shutdown = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      announce.info(`${signal}: draining (up to ${o.drainTimeout})`, { worker: started.id });
      started.drain(drainMs)
        .then(() => rt.close(0))
        .then(() => resolve(0), (e: unknown) => {
          log.error(`shutting down: ${formatError(e)}`);
          resolve(1);
        });
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
  });
}

/** `wharf workers`: the registered workers, live or not. */
export async function workers(o: { json?: boolean }): Promise<number> {
  const list = await withApi((api) => api.listWorkers());
  processOut.stdout(o.json ? `${JSON.stringify(list, null, 2)}\n` : formatWorkerTable(list.workers, Date.now()));
  return 0;
}

function backendName(v: string): BackendName {
  if ((BACKENDS as readonly string[]).includes(v)) return v as BackendName;
  throw new ApiError('invalid', `--backend: expected one of ${BACKENDS.join(', ')}, got ${JSON.stringify(v)}`);
}
