// `wharf token …`, `wharf secret …`, `wharf audit`: the admin records, on a server (WHARF_URL,
// with an admin WHARF_TOKEN) or on the store in WHARF_HOME in-process — which is how the first
// admin token is made.
import { ApiError } from '../../client/types.js';
import type { AuditEntryView, SecretInfo, TokenInfo } from '../../spec/admin-api.js';
import { withApi } from '../context.js';
import { wholeNumber } from '../flags.js';
import { processOut, table } from '../output.js';
import { readStdin } from '../read-source.js';

const time = (ms: number | null): string => (ms === null ? '-' : new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z'));

export async function tokenCreate(o: { scope: string[]; name?: string; expires?: string; json?: boolean }): Promise<number> {
  const made = await withApi((api) => api.createToken({
    scopes: o.scope.join(','), ...(o.name !== undefined ? { name: o.name } : {}), ...(o.expires !== undefined ? { expires: o.expires } : {}),
  }));
  if (o.json) {
    processOut.stdout(`${JSON.stringify(made)}\n`);
  } else {
    processOut.stderr(`token ${made.info.id} (${made.info.name}): ${made.info.scopes.join(', ')}, expires ${time(made.info.expiresAt)}. ` +
      'It is shown only now: Wharf keeps its hash.\n');
    processOut.stdout(`${made.token}\n`);
  }
  return 0;
}

export async function tokenList(o: { json?: boolean }): Promise<number> {
  const tokens = await withApi((api) => api.listTokens());
  processOut.stdout(o.json ? `${JSON.stringify(tokens)}\n` : tokenTable(tokens));
  return 0;
}

function tokenTable(tokens: readonly TokenInfo[]): string {
  const state = (t: TokenInfo): string => (t.revokedAt !== null ? 'revoked' : t.expiresAt !== null && t.expiresAt <= Date.now() ? 'expired' : 'active');
  return table([['ID', 'NAME', 'SCOPES', 'STATE', 'CREATED', 'EXPIRES', 'LAST USED'],
    ...tokens.map((t) => [t.id, t.name, t.scopes.join(','), state(t), time(t.createdAt), time(t.expiresAt), time(t.lastUsedAt)])]);
}

export async function tokenRevoke(id: string): Promise<number> {
  const t = await withApi((api) => api.revokeToken(id));
  processOut.stdout(`token ${t.id} (${t.name}): revoked\n`);
  return 0;
}

/** The value comes from stdin only: a command line ends up in shell history and `ps`. */
export async function secretSet(name: string): Promise<number> {
  if (process.stdin.isTTY) processOut.stderr(`value of ${name} (end with Ctrl-D):\n`);
  const raw = await readStdin();
  // `echo value | wharf secret set X` sends a newline that is not part of the value.
  const value = raw.endsWith('\r\n') ? raw.slice(0, -2) : raw.endsWith('\n') ? raw.slice(0, -1) : raw;
  if (value === '') throw new ApiError('invalid', `no value for secret ${name} on stdin: pipe it in, e.g. \`wharf secret set ${name} < file\``);
  const r = await withApi((api) => api.setSecret(name, value));
  processOut.stdout(`secret ${r.name}: ${r.created ? 'created' : 'replaced'}\n`);
  return 0;
}

export async function secretList(o: { json?: boolean }): Promise<number> {
  const secrets = await withApi((api) => api.listSecrets());
  processOut.stdout(o.json ? `${JSON.stringify(secrets)}\n` : table([['NAME', 'CREATED', 'UPDATED'], ...secrets.map((s: SecretInfo) => [s.name, time(s.createdAt), time(s.updatedAt)])]));
  return 0;
}

export async function secretRm(name: string): Promise<number> {
  await withApi((api) => api.deleteSecret(name));
  processOut.stdout(`secret ${name}: deleted\n`);
  return 0;
}

export async function audit(o: { after?: string; limit?: string; json?: boolean }): Promise<number> {
  const q: { after?: number; limit?: number } = {};
  if (o.after !== undefined) q.after = wholeNumber('--after', o.after, 0);
  if (o.limit !== undefined) q.limit = wholeNumber('--limit', o.limit, 1);
  const page = await withApi((api) => api.listAudit(q));
  if (o.json) processOut.stdout(`${JSON.stringify(page)}\n`);
  else processOut.stdout(table([['ID', 'TIME', 'ACTOR', 'ACTION', 'TARGET'], ...page.entries.map((e: AuditEntryView) => [String(e.id), time(e.time), e.actor, e.action, e.target])]));
  return 0;
}
