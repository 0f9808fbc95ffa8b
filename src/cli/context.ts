// Where the CLI's requests go: the server named by WHARF_URL, or the store in WHARF_HOME
// in-process (with a worker of its own while a command waits for a job).
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { WharfApi } from '../client/types.js';

export interface CliContext {
  api: WharfApi;
  mode: 'server' | 'in-process';
  close(): Promise<void>;
}

export function wharfHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.WHARF_HOME || join(homedir(), '.wharf');
}

/** `worker`: in-process mode runs attempts itself while the command waits. */
export async function connect(o: { worker: boolean }): Promise<CliContext> {
  const url = process.env.WHARF_URL;
  if (url) {
    const { HttpClient } = await import('../client/http.js');
    const api = new HttpClient(url);
    return { api, mode: 'server', close: () => api.close() };
  }
  const { openRuntime } = await import('../runtime/runtime.js');
  const rt = await openRuntime({ home: wharfHome() });
  if (o.worker) await rt.worker.start();
  return { api: rt.service, mode: 'in-process', close: () => rt.close(0) };
}
