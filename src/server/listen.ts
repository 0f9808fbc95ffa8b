// Starts the HTTP server on a host and port; close() ends open event streams and stops it.
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { buildApp, type AppOptions } from './app.js';

export interface ServerOptions extends Omit<AppOptions, 'isReady'> {
  /** Default 127.0.0.1: listening anywhere else is a choice the operator makes. */
  host?: string;
  /** Default 5255; 0 picks a free port. */
  port?: number;
  isReady?: AppOptions['isReady'];
}

export interface RunningServer {
  /** e.g. http://127.0.0.1:5255 */
  url: string;
  app: FastifyInstance;
  close(): Promise<void>;
}

export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_PORT = 5255;

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const host = opts.host ?? DEFAULT_HOST;
  // Warnings and errors only (5xx causes among them), on stderr, unless the caller chose a logger.
  const app = buildApp({
    ...opts, ...(opts.loggerInstance ? {} : { logger: opts.logger ?? { level: 'warn', stream: process.stderr } }), isReady: opts.isReady ?? (() => true),
  });
  await app.listen({ host, port: opts.port ?? DEFAULT_PORT });
  const { port } = app.server.address() as AddressInfo;
  const shown = host.includes(':') ? `[${host}]` : host;
  return { url: `http://${shown}:${port}`, app, close: () => app.close() };
}
