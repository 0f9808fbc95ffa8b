// How a failed command is reported: the message, every detail, and an exit code of 1.
import { ApiError } from '../client/types.js';
import { formatError } from '../core/format-error.js';
import { formatErrors } from './output.js';

export function reportError(e: unknown, code = 1): number {
  if (e instanceof ApiError) {
    process.stderr.write(`wharf: ${e.message}\n${formatErrors(e.details)}`);
  } else {
    process.stderr.write(`wharf: ${formatError(e)}\n`);
  }
  return code;
}
