// Shapes of the API's answers: one source for the server's response schemas, the OpenAPI
// document, the HTTP client and the CLI. Pure.
import { z } from 'zod';
import { ATTEMPT_STATES, JOB_STATES, TASK_STATES } from '../core/states.js';
import { BACKENDS, jobSchema } from './schema.js';

export const outcomeSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('succeeded') }),
  z.object({ kind: z.literal('exited'), code: z.int() }),
  z.object({ kind: z.literal('signaled'), signal: z.int(), signalName: z.string() }),
  z.object({ kind: z.literal('oom_killed'), memoryLimitBytes: z.int().optional() }),
  z.object({ kind: z.literal('start_failed'), reason: z.string() }),
  z.object({ kind: z.literal('timed_out'), afterMs: z.int() }),
  z.object({ kind: z.literal('canceled'), reason: z.string() }),
  z.object({ kind: z.literal('lost'), reason: z.string() }),
  z.object({ kind: z.literal('error'), reason: z.string() }),
]).meta({ id: 'Outcome', description: 'How an attempt ended.' });

export const attemptViewSchema = z.object({
  id: z.string(),
  number: z.int().min(1),
  state: z.enum(ATTEMPT_STATES),
  backend: z.enum(BACKENDS),
  /** ms since the epoch */
  queuedAt: z.number(),
  notBefore: z.number(),
  startedAt: z.number().nullable(),
  endedAt: z.number().nullable(),
  worker: z.string().nullable(),
  outcome: outcomeSchema.nullable(),
  /** The exit status a shell shows: code, 128+signal, 124 timeout, 125 not started, 130 canceled. */
  exitStatus: z.int().nullable(),
  logBytes: z.int(),
  logTruncated: z.boolean(),
}).meta({ id: 'Attempt' });

export const taskViewSchema = z.object({
  name: z.string(),
  state: z.enum(TASK_STATES),
  needs: z.array(z.string()),
  backend: z.enum(BACKENDS),
  attempts: z.array(attemptViewSchema),
  /**
   * Why a claimable queued attempt does not start, e.g. no live worker runs its backend. Set
   * when the job is read (GET /jobs/:id), never stored; absent when nothing is amiss.
   */
  waiting: z.string().optional().meta({ description: 'Why a claimable queued attempt does not start (no live worker runs its backend); absent when nothing is amiss.' }),
}).meta({ id: 'Task' });

export const jobSummarySchema = z.object({
  id: z.string(),
  name: z.string(),
  labels: z.record(z.string(), z.string()),
  state: z.enum(JOB_STATES),
  cancelRequested: z.boolean(),
  createdAt: z.number(),
  updatedAt: z.number(),
  endedAt: z.number().nullable(),
  taskCounts: z.record(z.string(), z.int()),
}).meta({ id: 'JobSummary' });

export const jobViewSchema = jobSummarySchema.extend({
  spec: jobSchema,
  tasks: z.array(taskViewSchema),
}).meta({ id: 'Job' });

export const jobListSchema = z.object({
  jobs: z.array(jobSummarySchema),
  nextCursor: z.string().nullable(),
}).meta({ id: 'JobList' });

export const LOG_STREAMS = ['stdout', 'stderr', 'system'] as const;
export type LogStream = (typeof LOG_STREAMS)[number];

export const logEntrySchema = z.object({
  /** Increases with every stored chunk; resume after it (SSE Last-Event-ID). */
  id: z.int(),
  task: z.string(),
  attempt: z.int(),
  stream: z.enum(LOG_STREAMS),
  time: z.number(),
  text: z.string(),
}).meta({ id: 'LogEntry' });

export const logPageSchema = z.object({
  entries: z.array(logEntrySchema),
  /** Pass as `after` to read on; null when the page ended at the newest entry. */
  nextAfter: z.int().nullable(),
}).meta({ id: 'LogPage' });

export const eventSchema = z.discriminatedUnion('type', [
  z.object({ id: z.int(), time: z.number(), type: z.literal('job_state'), jobId: z.string(), from: z.enum(JOB_STATES).nullable(), to: z.enum(JOB_STATES) }),
  z.object({ id: z.int(), time: z.number(), type: z.literal('task_state'), jobId: z.string(), task: z.string(), from: z.enum(TASK_STATES).nullable(), to: z.enum(TASK_STATES) }),
  z.object({
    id: z.int(), time: z.number(), type: z.literal('attempt'), jobId: z.string(), task: z.string(), attempt: z.int(),
    state: z.enum(ATTEMPT_STATES), outcome: outcomeSchema.nullable(),
  }),
]).meta({ id: 'Event' });

export const errorBodySchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.array(z.object({ path: z.string(), message: z.string() })),
  }),
}).meta({ id: 'Error' });

export const statusSchema = z.object({ status: z.literal('ok') }).meta({ id: 'Status' });

export type AttemptView = z.infer<typeof attemptViewSchema>;
export type TaskView = z.infer<typeof taskViewSchema>;
export type JobSummary = z.infer<typeof jobSummarySchema>;
export type JobView = z.infer<typeof jobViewSchema>;
export type JobList = z.infer<typeof jobListSchema>;
export type LogEntry = z.infer<typeof logEntrySchema>;
export type LogPage = z.infer<typeof logPageSchema>;
export type WharfEvent = z.infer<typeof eventSchema>;
export type ErrorBody = z.infer<typeof errorBodySchema>;
export type ErrorDetail = ErrorBody['error']['details'][number];
