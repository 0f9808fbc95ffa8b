// Shapes of the admin API (tokens, secrets, audit): requests and answers. Pure.
import { z } from 'zod';

/** What the audit log records. */
export const AUDIT_ACTIONS = [
  'job.submit', 'job.cancel', 'job.retry', 'token.create', 'token.revoke', 'secret.set', 'secret.delete',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export const tokenInfoSchema = z.object({
  id: z.string(),
  name: z.string(),
  scopes: z.array(z.string()),
  createdAt: z.number(),
  expiresAt: z.number().nullable(),
  revokedAt: z.number().nullable(),
  lastUsedAt: z.number().nullable(),
}).meta({ id: 'TokenInfo' });

export const createdTokenSchema = z.object({
  /** Shown once: only its hash is kept. */
  token: z.string(),
  info: tokenInfoSchema,
}).meta({ id: 'CreatedToken' });

export const tokenListSchema = z.object({ tokens: z.array(tokenInfoSchema) }).meta({ id: 'TokenList' });

const SCOPES_EXPECTED = 'expected scopes: a list such as ["read", "submit"] or a string such as "read,submit"';

export const createTokenBodySchema = z.strictObject({
  name: z.string({ error: 'expected a name (text)' }).optional().meta({ description: 'What the token is for (default "token").' }),
  scopes: z.union([z.array(z.string({ error: SCOPES_EXPECTED })), z.string()], { error: SCOPES_EXPECTED })
    .meta({ description: 'read, submit, cancel, admin: a list or a comma-separated string.' }),
  expires: z.string({ error: 'expected a duration such as "30d" or a date such as "2030-01-31"' }).optional()
    .meta({ description: 'A duration ("30d", "12h") or a date; default: never.' }),
}, { error: 'expected a JSON object with scopes, and optionally name and expires' }).meta({ id: 'CreateToken' });

export const secretInfoSchema = z.object({
  name: z.string(),
  createdAt: z.number(),
  updatedAt: z.number(),
}).meta({ id: 'SecretInfo' });

export const secretListSchema = z.object({ secrets: z.array(secretInfoSchema) }).meta({ id: 'SecretList' });

export const setSecretBodySchema = z.strictObject({
  value: z.string({ error: 'expected the secret\'s value as a string' }),
}, { error: 'expected a JSON object: {"value": "…"}' }).meta({ id: 'SetSecret' });

export const setSecretAnswerSchema = z.object({ name: z.string(), created: z.boolean() }).meta({ id: 'SecretSet' });

export const auditEntrySchema = z.object({
  id: z.int(),
  time: z.number(),
  actor: z.string(),
  action: z.enum(AUDIT_ACTIONS),
  target: z.string(),
}).meta({ id: 'AuditEntry' });

export const auditPageSchema = z.object({
  entries: z.array(auditEntrySchema),
  nextAfter: z.int().nullable(),
}).meta({ id: 'AuditPage' });

export type TokenInfo = z.infer<typeof tokenInfoSchema>;
export type CreatedToken = z.infer<typeof createdTokenSchema>;
export type SecretInfo = z.infer<typeof secretInfoSchema>;
export type AuditEntryView = z.infer<typeof auditEntrySchema>;
export type AuditPage = z.infer<typeof auditPageSchema>;
export type CreateTokenRequest = z.infer<typeof createTokenBodySchema>;
