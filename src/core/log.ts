// What Wharf's processes log through: leveled messages with structured fields (job, task,
// attempt ids). `wharf serve` and `wharf worker` write JSON lines (pino, runtime/log.ts); the
// CLI's in-process worker writes plain text, warnings only. Pure: the sink is given.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

export type LogFields = Record<string, string | number | boolean | null | undefined>;

export interface Log {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A log whose every line carries `fields` too. */
  child(fields: LogFields): Log;
}

export const SILENT: Log = {
  debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, child: () => SILENT,
};

/** "<prefix>: message (key=value …)" lines at `level` and above, for people at a terminal. */
export function textLog(prefix: string, write: (line: string) => void, level: LogLevel = 'warn', bound: LogFields = {}): Log {
  const min = LOG_LEVELS.indexOf(level);
  const line = (l: LogLevel) => (msg: string, fields?: LogFields): void => {
    if (LOG_LEVELS.indexOf(l) < min) return;
    const all = { ...bound, ...fields };
    const extra = Object.entries(all).filter(([, v]) => v !== undefined && v !== null).map(([k, v]) => `${k}=${String(v)}`);
    write(`${prefix}: ${msg}${extra.length ? ` (${extra.join(' ')})` : ''}\n`);
  };
  return {
    debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error'),
    child: (fields) => textLog(prefix, write, level, { ...bound, ...fields }),
  };
}
