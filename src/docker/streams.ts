// The engine's two streamed body formats: newline-delimited JSON (events, pull, push, build) and
// the multiplexed stdout/stderr frames of logs and attach for containers without a TTY.
import { EngineError, EngineProtocolError } from './errors.js';

/**
 * Parsed objects, one per line. A line that is not JSON rejects (never silently dropped); an
 * object with `errorDetail`/`error` — how pull, push and build report failure inside a 200 —
 * rejects with an EngineError carrying that message.
 */
export async function* jsonLines<T = Record<string, unknown>>(body: AsyncIterable<Buffer | string>): AsyncGenerator<T> {
  let rest = '';
  const decoder = new TextDecoder('utf-8');
  const parse = (line: string): T | undefined => {
    const text = line.trim();
    if (text === '') return undefined;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new EngineProtocolError(`the engine sent a line that is not JSON: ${JSON.stringify(text.slice(0, 200))}`);
    }
    const failure = streamFailure(value);
    if (failure !== undefined) throw new EngineError(200, failure);
    return value as T;
  };
  for await (const chunk of body) {
    rest += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = rest.indexOf('\n')) >= 0) {
      const line = rest.slice(0, nl);
      rest = rest.slice(nl + 1);
      const v = parse(line);
      if (v !== undefined) yield v;
    }
  }
  rest += decoder.decode();
  const last = parse(rest);
  if (last !== undefined) yield last;
}

/** The failure message of a JSON-stream object, if it reports one. */
function streamFailure(value: unknown): string | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const o = value as { errorDetail?: unknown; error?: unknown };
  const detail = o.errorDetail as { message?: unknown } | undefined;
  if (detail && typeof detail === 'object' && typeof detail.message === 'string' && detail.message !== '') return detail.message;
  if (typeof o.error === 'string' && o.error !== '') return o.error;
  if (o.error && typeof o.error === 'object' && typeof (o.error as { message?: unknown }).message === 'string') {
    return (o.error as { message: string }).message;
  }
  return undefined;
}

export type DemuxStream = 'stdin' | 'stdout' | 'stderr';

export interface DemuxFrame {
  stream: DemuxStream;
  data: Buffer;
}

const STREAMS: Record<number, DemuxStream> = { 0: 'stdin', 1: 'stdout', 2: 'stderr' };

/**
 * Frames of a multiplexed stream: an 8-byte header (stream type, three zero bytes, uint32 BE
 * size) then the payload; headers and payloads may be split anywhere across chunks. Type 3 is
 * the engine reporting an error mid-stream: it rejects with that message.
 */
export async function* demux(body: AsyncIterable<Buffer>): AsyncGenerator<DemuxFrame> {
  let buf: Buffer = Buffer.alloc(0);
  for await (const chunk of body) {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    let off = 0;
    while (buf.length - off >= 8) {
      const type = buf[off] ?? 0;
      const stream = STREAMS[type];
      if ((type !== 3 && !stream) || buf[off + 1] !== 0 || buf[off + 2] !== 0 || buf[off + 3] !== 0) {
        throw new EngineProtocolError(`not a multiplexed stream: frame header ${buf.subarray(off, off + 8).toString('hex')}`);
      }
      const size = buf.readUInt32BE(off + 4);
      if (buf.length - off - 8 < size) break;
      const data = buf.subarray(off + 8, off + 8 + size);
      off += 8 + size;
      if (type === 3) throw new EngineError(200, data.toString('utf8').trim());
      // Copied: the chunk it lies in may be large, and is not the caller's to keep alive.
      if (stream && size > 0) yield { stream, data: Buffer.from(data) };
    }
    buf = buf.subarray(off);
  }
  if (buf.length > 0) throw new EngineProtocolError(`the multiplexed stream ended inside a frame (${buf.length} bytes left over)`);
}
