// What every request handler gets.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Cluster } from './cluster.js';
import type { Counts } from './counts.js';
import type { KubeVersion } from './discovery.js';
import type { FieldValidation } from './decode.js';
import type { Authorizer } from './rbac.js';
import type { RequestInfo } from './router.js';
import { StatusError, badRequest } from './status.js';
import type { WatchHub } from './watch.js';

export interface SimConfig {
  version: KubeVersion;
  bookmarkIntervalMs: number;
  serverAddress: string;
}

export interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  info: RequestInfo;
  cluster: Cluster;
  hub: WatchHub;
  counts: Counts;
  authz: Authorizer;
  config: SimConfig;
}

export function fieldValidation(q: URLSearchParams): FieldValidation {
  const v = q.get('fieldValidation');
  if (v === null || v === '' || v === 'Warn') return 'Warn';
  if (v === 'Strict' || v === 'Ignore') return v;
  throw new StatusError(badRequest(`fieldValidation parameter unsupported: ${v}`));
}

/** An integer query parameter, or the 400 the parameter codec gives for a bad one. */
export function queryInt(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (!/^-?\d+$/.test(v)) throw new StatusError(badRequest(`strconv.ParseInt: parsing ${JSON.stringify(v)}: invalid syntax`));
  return Number(v);
}
