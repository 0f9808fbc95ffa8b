// One way to turn anything thrown into a line a user can act on, without ever throwing.
export function formatError(e: unknown): string {
  try {
    if (e instanceof Error) {
      const code = (e as Error & { code?: unknown }).code;
      const msg = e.message || e.name;
      return typeof code === 'string' && !msg.includes(code) ? `${msg} (${code})` : msg;
    }
    if (typeof e === 'string') return e;
    return JSON.stringify(e) ?? String(e);
  } catch {
    return 'unprintable error';
  }
}
