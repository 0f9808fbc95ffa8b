// Where the CLI's requests go: the server named by WHARF_URL, or the store in WHARF_HOME
// in-process, where the CLI runs the job it waits for with a worker of its own.
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { WharfApi } from '../client/types.js';

export interface CliContext {
  api: WharfApi;
  mode: 'server' | 'in-process';
  /** In-process: run this job's attempts here while the command waits (a server needs nothing). */
  runHere(jobId: string): Promise<void>;
  close(): Promise<void>;
}

export function wharfHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.WHARF_HOME || join(homedir(), '.wharf');
}

export async function connect(): Promise<CliContext> {
  const url = process.env.WHARF_URL;
  if (url) {
    const { HttpClient } = await import('../client/http.js');
    const token = process.env.WHARF_TOKEN;
    const api = new HttpClient(url, token ? { token } : {});
    return { api, mode: 'server', runHere: async () => undefined, close: () => api.close() };
  }
  const [{ openRuntime }, { containerOptions, loadPolicy }] = await Promise.all([import('../runtime/runtime.js'), import('./runtime-config.js')]);
  const policy = await loadPolicy(undefined);
  const db = process.env.WHARF_DB;
  const rt = await openRuntime({ home: wharfHome(), containers: containerOptions({}), ...(policy ? { policy } : {}), ...(db ? { db } : {}) });
  return {
    api: rt.service,
    mode: 'in-process',
    runHere: async (jobId) => { await rt.startWorker({ onlyJob: jobId }); },
    close: () => rt.close(0),
  };
}

/** Runs one request against WharfApi and closes the connection (or the in-process store). */
export async function withApi<T>(fn: (api: WharfApi) => Promise<T>): Promise<T> {
  const ctx = await connect();
  try {
    return await fn(ctx.api);
  } finally {
    await ctx.close();
  }
}
