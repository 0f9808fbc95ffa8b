// The job file's schema: the single source of the spec types, the JSON Schema and the API's
// request shapes. Pure: no I/O.
import { z } from 'zod';

export const BACKENDS = ['local', 'docker', 'kubernetes'] as const;
export type BackendName = (typeof BACKENDS)[number];

/** "500ms", "30s", "5m", "1h", or compounds such as "1h30m". */
export const DURATION_RE = /^(?:\d+(?:ms|s|m|h))+$/;
const DNS_LABEL_RE = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const ENV_KEY_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const LABEL_KEY_RE = /^[A-Za-z0-9](?:[A-Za-z0-9._/-]{0,61}[A-Za-z0-9])?$/;
const CPU_RE = /^(?:\d+(?:\.\d+)?|\d+m)$/;
export const MEMORY_RE = /^\d+(?:Ki|Mi|Gi|Ti|K|M|G|T|k)?$/;

export const duration = z
  .string({ error: 'expected a duration such as "30s"' })
  .regex(DURATION_RE, { error: (iss) => `expected a duration such as "30s", got ${JSON.stringify(iss.input)}` })
  .meta({ description: 'A duration: digits followed by ms, s, m or h; compounds like "1h30m" allowed.', examples: ['30s', '5m', '1h'] });

export const backoffSchema = z
  .strictObject({
    initial: duration.optional().meta({ description: 'Delay before the first retry (default "1s").' }),
    factor: z.number({ error: 'expected a number ≥ 1' }).min(1, { error: 'expected a number ≥ 1' }).optional()
      .meta({ description: 'Each retry waits factor times longer than the last (default 2).' }),
    max: duration.optional().meta({ description: 'Upper bound of one delay (default "5m").' }),
  })
  .meta({ description: 'Exponential backoff: initial·factor^n, capped at max.' });

export const retriesSchema = z
  .strictObject({
    limit: z.int({ error: 'expected a whole number from 0 to 100' }).min(0, { error: 'expected a whole number from 0 to 100' })
      .max(100, { error: 'expected a whole number from 0 to 100' })
      .meta({ description: 'How many times a failed attempt is retried.' }),
    backoff: backoffSchema.optional(),
  })
  .meta({ description: 'Retry policy of a task.' });

const cpuError = (iss: { input?: unknown }): string => `expected CPUs such as 0.5, "2" or "500m", got ${JSON.stringify(iss.input)}`;

export const resourcesSchema = z
  .strictObject({
    // zod reports the failing branch's own issue when only one branch has the right type, so
    // each branch needs the message too, not just the union.
    cpu: z.union([z.number().positive({ error: cpuError }), z.string().regex(CPU_RE, { error: cpuError })],
      { error: 'expected CPUs such as 0.5, "2" or "500m"' }).optional()
      .meta({ description: 'CPU cores: a number, or millicores such as "500m".' }),
    memory: z.string({ error: 'expected a memory size such as "512Mi" or "1Gi"' })
      .regex(MEMORY_RE, { error: (iss) => `expected a memory size such as "512Mi" or "1Gi", got ${JSON.stringify(iss.input)}` })
      .optional().meta({ description: 'Memory in bytes, optionally with a suffix: k, K, M, G, T, Ki, Mi, Gi, Ti.' }),
  })
  .meta({ description: 'CPU and memory for the task (limits; requests on Kubernetes).' });

export const taskNameSchema = z.string().regex(DNS_LABEL_RE, {
  error: (iss) => `expected a task name of lowercase letters, digits and "-" (at most 63, starting and ending alphanumeric), got ${JSON.stringify(iss.input)}`,
});

/** One argument or value: Linux refuses longer ones (MAX_ARG_STRLEN). */
export const MAX_ARG_BYTES = 128 * 1024;
export const MAX_ARGS = 4096;
/** All of a task's environment (names and values): Linux's ARG_MAX is 2 MiB for it and the arguments. */
export const MAX_ENV_BYTES = 1024 * 1024;
export const MAX_TASKS = 1000;
const encoder = new TextEncoder();
const utf8Length = (s: string): number => encoder.encode(s).length;
const tooLong = (what: string) => `expected an ${what} of at most ${MAX_ARG_BYTES / 1024} KiB`;

export const envSchema = z.record(
  z.string().regex(ENV_KEY_RE, { error: (iss) => `expected an environment variable name (letters, digits, "_"), got ${JSON.stringify(iss.input)}` })
    .refine((k) => !k.startsWith('WHARF_'), { error: 'names starting with WHARF_ are reserved for Wharf' }),
  z.string({ error: (iss) => `expected a string, got ${describe(iss.input)} (quote numbers and booleans in YAML)` })
    .refine((v) => utf8Length(v) <= MAX_ARG_BYTES, { error: tooLong('env value') }),
).refine((env) => Object.entries(env).reduce((n, [k, v]) => n + utf8Length(k) + utf8Length(v) + 2, 0) <= MAX_ENV_BYTES,
  { error: `expected at most ${MAX_ENV_BYTES / 1024 / 1024} MiB of environment in all` });

const absolutePath = (what: string) => z.string({ error: `expected ${what}` })
  .refine((p) => p.startsWith('/'), { error: (iss) => `expected ${what}, got ${JSON.stringify(iss.input)}` })
  .refine((p) => !p.split('/').includes('..'), { error: 'expected a path without ".." segments' });

/** Host side of a copy: relative paths are resolved against the job file's directory by the CLI. */
const hostPath = z.string({ error: 'expected a path on the worker\'s host' }).min(1, { error: 'expected a path on the worker\'s host' });

export const buildSchema = z
  .strictObject({
    context: hostPath.meta({ description: 'Build context directory on the worker\'s host (relative to the job file when the CLI submits it).' }),
    dockerfile: z.string({ error: 'expected a path inside the context' }).min(1).optional()
      .meta({ description: 'Dockerfile, relative to the context (default "Dockerfile").' }),
    args: z.record(z.string().regex(ENV_KEY_RE, { error: (iss) => `expected a build argument name (letters, digits, "_"), got ${JSON.stringify(iss.input)}` }),
      z.string({ error: 'expected a string (quote numbers and booleans in YAML)' })).optional()
      .meta({ description: 'Build arguments (ARG) for the Dockerfile.' }),
    target: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, { error: (iss) => `expected a build stage name, got ${JSON.stringify(iss.input)}` }).optional()
      .meta({ description: 'The stage of a multi-stage Dockerfile to build.' }),
  })
  .meta({ description: 'Build the task\'s image from a Dockerfile before it runs; the image is tagged by the digest of what is built, so an unchanged context is never built twice.' });

const CAPABILITY_RE = /^[A-Z][A-Z0-9_]*$/;

/** Named pod additions (seed 002's "capabilities"; Linux capabilities are `capabilities`). */
export const FEATURES = ['docker', 'kata'] as const;
export type Feature = (typeof FEATURES)[number];

export const copySchema = (fromWhat: string, toWhat: string) => z.strictObject({
  from: fromWhat === 'container' ? absolutePath('an absolute path in the container') : hostPath,
  to: toWhat === 'container' ? absolutePath('an absolute directory in the container') : hostPath,
});

const SECRET_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const secretName = z.string({ error: 'expected a secret name' }).regex(SECRET_NAME_RE, { error: (iss) => `expected a secret name (letters, digits, "_"; not starting with a digit), got ${JSON.stringify(iss.input)}` });

export const secretRefSchema = z.union([
  secretName,
  z.strictObject({
    name: secretName,
    env: z.string().regex(ENV_KEY_RE, { error: (iss) => `expected an environment variable name, got ${JSON.stringify(iss.input)}` })
      .refine((k) => !k.startsWith('WHARF_'), { error: 'names starting with WHARF_ are reserved for Wharf' }).optional(),
    file: absolutePath('an absolute file path in the container').optional(),
  }).refine((r) => !(r.env !== undefined && r.file !== undefined), { error: 'expected env or file, not both' }),
], { error: 'expected a secret name, or {name, env} or {name, file}' });

export const taskSchema = z
  .strictObject({
    command: z.array(z.string({ error: 'expected a string' }).refine((a) => utf8Length(a) <= MAX_ARG_BYTES, { error: tooLong('argument') }),
      { error: 'expected a list of strings, e.g. ["sh", "-c", "echo hi"]' })
      .min(1, { error: 'expected at least the program to run' })
      .max(MAX_ARGS, { error: `expected at most ${MAX_ARGS} arguments` })
      .meta({ description: 'Program and arguments; no shell unless you run one.' }),
    image: z.string().min(1, { error: 'expected an image reference' }).optional()
      .meta({ description: 'Container image (docker and kubernetes backends).' }),
    backend: z.enum(BACKENDS, { error: (iss) => `expected one of ${BACKENDS.join(', ')}, got ${typeof iss.input === 'string' ? JSON.stringify(iss.input) : describe(iss.input)}` }).optional()
      .meta({ description: 'Where the task runs; defaults to the server\'s default backend.' }),
    env: envSchema.optional().meta({ description: 'Environment variables, exactly as given.' }),
    needs: z.array(taskNameSchema, { error: 'expected a list of task names' }).optional()
      .meta({ description: 'Tasks that must succeed before this one starts.' }),
    timeout: duration.optional().meta({ description: 'Wall-clock limit of one attempt.' }),
    retries: retriesSchema.optional(),
    workingDir: z.string().min(1).optional().meta({ description: 'Working directory of the process (relative paths are inside the attempt\'s fresh directory on the local backend).' }),
    resources: resourcesSchema.optional(),
    build: buildSchema.optional(),
    user: z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]*(?::[A-Za-z0-9_][A-Za-z0-9_.-]*)?$/, { error: (iss) => `expected a user such as "1000", "1000:1000" or "nobody", got ${JSON.stringify(iss.input)}` }).optional()
      .meta({ description: 'Container user: uid, uid:gid or a name the image knows.' }),
    network: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, { error: (iss) => `expected a network name such as "none" or "host", got ${JSON.stringify(iss.input)}` }).optional()
      .meta({ description: 'Container network (default "none": loopback only), where the server\'s policy allows it.' }),
    capabilities: z.array(z.string().transform((c) => c.toUpperCase().replace(/^CAP_/, '')).pipe(z.string().regex(CAPABILITY_RE, { error: (iss) => `expected a Linux capability such as "NET_BIND_SERVICE", got ${JSON.stringify(iss.input)}` })),
      { error: 'expected a list of Linux capabilities' }).optional()
      .meta({ description: 'Linux capabilities added to an otherwise empty set, where the server\'s policy allows them.' }),
    privileged: z.boolean({ error: 'expected true or false' }).optional()
      .meta({ description: 'A privileged container: only where the server\'s policy allows it.' }),
    writableRootfs: z.boolean({ error: 'expected true or false' }).optional()
      .meta({ description: 'Make the root filesystem writable (by default it is read-only, with a writable /tmp).' }),
    inputs: z.array(copySchema('host', 'container'), { error: 'expected a list of {from, to}' }).optional()
      .meta({ description: 'Host files or directories (from) copied into a container directory (to) before the task starts.' }),
    outputs: z.array(copySchema('container', 'host'), { error: 'expected a list of {from, to}' }).optional()
      .meta({ description: 'Container files or directories (from) copied into a host directory (to) after the task ends.' }),
    secrets: z.array(secretRefSchema, { error: 'expected a list of secret names' }).optional()
      .meta({ description: 'Secrets (wharf secret set NAME) given to this task only: a name is the environment variable of that name; {name, env} another variable; {name, file} a file (container backends). Their values are masked (***) in logs and messages.' }),
    features: z.array(z.enum(FEATURES, { error: (iss) => `expected one of ${FEATURES.join(', ')}, got ${typeof iss.input === 'string' ? JSON.stringify(iss.input) : describe(iss.input)}` }),
      { error: 'expected a list of features, e.g. ["docker"]' }).optional()
      .meta({ description: 'Pod additions on the kubernetes backend, where the server\'s policy allows them: "docker" (a rootless Docker engine beside the task, DOCKER_HOST set), "kata" (the pod runs in a Kata microVM).' }),
  })
  .meta({ description: 'One container run.' });

export const jobSchema = z
  .strictObject({
    name: z.string({ error: 'expected a job name' }).min(1, { error: 'expected a non-empty name' }).max(128, { error: 'expected at most 128 characters' })
      .meta({ description: 'A human name for the job.' }),
    labels: z.record(
      z.string().regex(LABEL_KEY_RE, { error: (iss) => `expected a label key (letters, digits, ".", "_", "/", "-"; at most 63), got ${JSON.stringify(iss.input)}` }),
      z.string({ error: 'expected a string label value' }).max(63, { error: 'expected at most 63 characters' }),
    ).optional().meta({ description: 'Labels to filter jobs by.' }),
    tasks: z.record(taskNameSchema, taskSchema, { error: 'expected a map of task name → task' })
      .refine((t) => Object.keys(t).length > 0, { error: 'expected at least one task' })
      .refine((t) => Object.keys(t).length <= MAX_TASKS, { error: `expected at most ${MAX_TASKS} tasks in one job` })
      .meta({ description: 'Task name → task.' }),
  })
  .meta({ title: 'Wharf job', description: 'A Wharf job: tasks and the dependencies between them.' });

export type JobSpec = z.infer<typeof jobSchema>;
export type TaskSpec = z.infer<typeof taskSchema>;
export type RetriesSpec = z.infer<typeof retriesSchema>;

/** A value for "got …": never throws (a bigint) nor says "undefined" or "null" for what is neither. */
function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a map';
  if (typeof v === 'string') return `string ${JSON.stringify(v)}`;
  if (typeof v === 'number' || typeof v === 'boolean') return `${typeof v} ${String(v)}`;
  return `a ${typeof v}`;
}
