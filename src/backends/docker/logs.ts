// Streams one container's output: GET /containers/{id}/logs with timestamps, demultiplexed, each
// entry's timestamp moved into the chunk's cursor and time.
import type { IncomingMessage } from 'node:http';
import type { DockerEngine } from '../../docker/engine.js';
import { demux } from '../../docker/streams.js';
import type { RunLogChunk } from '../types.js';
import { LogEntries, parseCursor, sinceParam } from './log-entries.js';

export interface ContainerLogOptions {
  follow: boolean;
  after?: string | undefined;
  restoreSplitNewlines: boolean;
  /** Told of the open response, so whoever closes the backend can cut it. */
  track?: (res: IncomingMessage) => () => void;
}

/**
 * With `follow`, the engine ends the stream once the container has stopped and its log is read
 * to the end; a container that is not running gets what it wrote so far.
 */
export async function* containerLogs(engine: DockerEngine, id: string, opts: ContainerLogOptions): AsyncGenerator<RunLogChunk> {
  const after = opts.after === undefined ? undefined : parseCursor(opts.after);
  const res = await engine.stream('GET', `/containers/${encodeURIComponent(id)}/logs`, {
    query: { follow: opts.follow, stdout: true, stderr: true, timestamps: true, since: after && sinceParam(after) },
  });
  const untrack = opts.track?.(res) ?? ((): void => {});
  const entries = new LogEntries({ after, restoreSplitNewlines: opts.restoreSplitNewlines });
  try {
    for await (const frame of demux(res)) {
      if (frame.stream === 'stdin') continue;
      const chunk = entries.push(frame.stream, frame.data);
      if (chunk) yield chunk;
    }
  } finally {
    untrack();
    res.destroy(); // a consumer that stopped early must not leave the connection streaming
  }
}
