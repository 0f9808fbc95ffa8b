// Shapes of the workers API (GET /api/v1/workers): one source for the server's response schema,
// the OpenAPI document, the HTTP client and the CLI. Pure.
import { z } from 'zod';
import { BACKENDS } from './schema.js';

export const workerViewSchema = z.object({
  id: z.string(),
  host: z.string(),
  pid: z.int(),
  backends: z.array(z.enum(BACKENDS)),
  labels: z.record(z.string(), z.string()),
  /** Attempts it runs at once at most. */
  capacity: z.int(),
  /** Attempts it ran at its last heartbeat. */
  running: z.int(),
  startedAt: z.number(),
  lastSeenAt: z.number(),
  /** Heard from within the last three heartbeat intervals. */
  live: z.boolean(),
}).meta({ id: 'Worker', description: 'A registered worker; one that stopped beating stays listed, not live, until it unregisters.' });

export const workerListSchema = z.object({
  workers: z.array(workerViewSchema),
}).meta({ id: 'WorkerList' });

export type WorkerView = z.infer<typeof workerViewSchema>;
export type WorkerList = z.infer<typeof workerListSchema>;
