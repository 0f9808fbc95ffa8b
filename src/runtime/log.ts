// JSON log lines on stderr for `wharf serve` and `wharf worker` (pino): one object per line with
// time, level, msg and the fields (component, jobId, task, attempt, attemptId…). The same pino
// instance serves Fastify, so request errors land in the same stream.
import { pino, type Logger } from 'pino';
import type { Log, LogFields, LogLevel } from '../core/log.js';

export function pinoLogger(level: LogLevel): Logger {
  // Levels by name ("warn", not 40): what people grep for and log shippers map.
  return pino({ level, base: { pid: process.pid }, formatters: { level: (label) => ({ level: label }) } }, pino.destination({ fd: 2, sync: true }));
}

export function pinoLog(p: Logger): Log {
  const at = (l: 'debug' | 'info' | 'warn' | 'error') => (msg: string, fields?: LogFields): void => {
    if (fields) p[l](fields, msg);
    else p[l](msg);
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: (fields) => pinoLog(p.child(fields)) };
}
