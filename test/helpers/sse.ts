// Reads a Server-Sent Events stream until a frame satisfies the predicate (no polling).
import assert from 'node:assert/strict';

export interface Frame {
  id?: string;
  event: string;
  data: string;
}

export async function untilFrame(url: string, pred: (f: Frame) => boolean): Promise<Frame> {
  const ac = new AbortController();
  const res = await fetch(url, { signal: ac.signal, headers: { accept: 'text/event-stream' } });
  assert.equal(res.status, 200, `${url}: ${res.status}`);
  assert.ok(res.body);
  const decoder = new TextDecoder();
  let buf = '';
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buf += decoder.decode(chunk, { stream: true });
      let i;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const f: Frame = { event: 'message', data: '' };
        for (const line of buf.slice(0, i).split('\n')) {
          if (line.startsWith('id: ')) f.id = line.slice(4);
          else if (line.startsWith('event: ')) f.event = line.slice(7);
          else if (line.startsWith('data: ')) f.data += line.slice(6);
        }
        buf = buf.slice(i + 2);
        if (f.data && pred(f)) return f;
      }
    }
  } finally {
    ac.abort();
  }
  throw new Error(`${url} ended without the awaited frame`);
}
