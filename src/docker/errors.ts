// Errors of the Docker Engine API client. EngineError carries the engine's own message verbatim
// (callers show it to users as the reason, e.g. "No such image: x" or "pull access denied …").

export class EngineError extends Error {
  override readonly name = 'EngineError';
  constructor(
    /** HTTP status; 200 for a failure reported inside a streamed 200 answer (pull, push, build). */
    readonly status: number,
    /** The engine's message, verbatim. */
    message: string,
    /** "METHOD /path" of the request, for logs. */
    readonly request?: string,
  ) {
    super(message);
  }
}

/** The socket or port does not answer (or refuses us): nothing to retry against until it does. */
export class EngineUnreachableError extends Error {
  override readonly name = 'EngineUnreachableError';
  constructor(readonly host: string, readonly code: string | undefined, detail: string) {
    super(`cannot reach the Docker engine at ${host}: ${detail}`);
  }
}

/** A stream from the engine that does not have the shape its API promises. */
export class EngineProtocolError extends Error {
  override readonly name = 'EngineProtocolError';
}

/** The message an error body carries: `{"message": …}` for the engine, else its text. */
export function engineMessage(body: string, status: number): string {
  const text = body.trim();
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object' && 'message' in parsed && typeof parsed.message === 'string') return parsed.message;
  } catch {
    // not JSON: the text itself is the message
  }
  return text === '' ? `HTTP ${status} with an empty body` : text.slice(0, 2_000);
}

/** Why a connection failed, for a person who has to fix it. */
export function unreachableDetail(code: string | undefined, message: string, isSocket: boolean): string {
  switch (code) {
    case 'ENOENT':
      return 'the socket does not exist — dockerd is not running, or DOCKER_HOST points elsewhere';
    case 'ECONNREFUSED':
      return isSocket ? 'connection refused — dockerd is not answering on this socket' : 'connection refused — dockerd is not listening there';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied — this user may not open the socket (is it in the docker group?)';
    case 'ENOTSOCK':
      return 'the path is not a socket';
    default:
      return `${message} — dockerd is not answering`;
  }
}
