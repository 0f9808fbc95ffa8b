// The server's policy file: what tasks may ask for beyond the hardened default. Pure: the CLI
// reads the file, this validates it with every error named by its path.
import { z } from 'zod';
import type { ErrorDetail } from './api.js';
import { defaultErrorMap, issuesToErrors } from './errors.js';
import { decodeJson } from './json-text.js';
import { exceedsDepth, placed, TOO_DEEP } from './source.js';
import { BACKENDS, FEATURES, MEMORY_RE } from './schema.js';
import { decodeYaml } from './yaml-text.js';

/** The capabilities Docker gives a non-privileged container by default. */
export const DEFAULT_CAPABILITIES = [
  'AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE',
  'NET_RAW', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT',
] as const;

export const policySchema = z.strictObject({
  allowPrivileged: z.boolean({ error: 'expected true or false' }).default(false)
    .meta({ description: 'Whether a task may run privileged (full access to the host).' }),
  allowedCapabilities: z.array(z.string().regex(/^[A-Z][A-Z0-9_]*$/, { error: (iss) => `expected a capability such as "NET_BIND_SERVICE", got ${JSON.stringify(iss.input)}` }))
    .default([...DEFAULT_CAPABILITIES])
    .meta({ description: 'Linux capabilities a task may add (default: those Docker gives a non-privileged container).' }),
  allowedFeatures: z.array(z.enum(FEATURES, { error: (iss) => `expected one of ${FEATURES.join(', ')}, got ${JSON.stringify(iss.input)}` })).default([])
    .meta({ description: 'Pod additions a task may ask for on Kubernetes (default none): "docker" needs privilege escalation and unconfined profiles in its sidecar, "kata" a RuntimeClass.' }),
  allowedNetworks: z.array(z.string().min(1)).default(['*'])
    .meta({ description: 'Networks a task may join besides "none"; "*" is any network except "host", which must be listed itself.' }),
  requireNonRoot: z.boolean({ error: 'expected true or false' }).default(false)
    .meta({ description: 'Every container task must state a non-root user.' }),
  allowWritableRootfs: z.boolean({ error: 'expected true or false' }).default(true)
    .meta({ description: 'Whether a task may ask for a writable root filesystem.' }),
  allowedHostPaths: z.array(z.string().startsWith('/', { error: 'expected an absolute path' })).default(['/'])
    .meta({ description: 'Host directories that build contexts, inputs and outputs may use (prefixes).' }),
  allowedImages: z.array(z.string().min(1, { error: 'expected an image pattern such as "registry.example.com/team/*"' })).default(['*'])
    .meta({ description: 'Images a task may run: patterns where * matches anything (including "/" and ":"), matched against the reference as written and in full (docker.io/library/busybox:latest).' }),
  allowedBackends: z.array(z.enum(BACKENDS, { error: `expected one of ${BACKENDS.join(', ')}` })).default([...BACKENDS])
    .meta({ description: 'Backends a task may run on.' }),
  maxResources: z.strictObject({
    cpu: z.number({ error: 'expected a number of CPUs' }).positive({ error: 'expected a number of CPUs' }).optional(),
    memory: z.string().regex(MEMORY_RE, { error: 'expected a memory size such as "8Gi"' }).optional(),
  }).optional().meta({ description: 'The most CPU and memory one task may ask for.' }),
});

export type Policy = z.output<typeof policySchema>;

/** Non-privileged only: what a server runs with when given no policy file. */
export const DEFAULT_POLICY: Policy = policySchema.parse({});

export type PolicyResult = { ok: true; policy: Policy } | { ok: false; errors: ErrorDetail[] };

/** A policy file's text (YAML or JSON); an empty file is the default policy. */
export function parsePolicy(text: string): PolicyResult {
  if (text.trim() === '') return { ok: true, policy: DEFAULT_POLICY };
  const decoded = /^\s*[{[]/.test(text) ? decodeJson(text) : decodeYaml(text);
  if (!decoded.ok) return { ok: false, errors: [{ path: '', message: placed(text, decoded.offset, decoded.message) }] };
  const value = decoded.value;
  if (exceedsDepth(value)) return { ok: false, errors: [{ path: '', message: TOO_DEEP }] };
  const r = policySchema.safeParse(value, { reportInput: true, error: defaultErrorMap });
  return r.success ? { ok: true, policy: r.data } : { ok: false, errors: issuesToErrors(r.error.issues, value, policySchema) };
}
