// Masks secret values (and the encodings they commonly travel in) in text: one-shot for a whole
// string, or streamed over chunks with the same result however the text was split. Pure.
//
// What is covered, per secret value v:
//   - v itself, and its JSON-string-escaped form (`"` `\` control characters, as JSON.stringify writes them);
//   - percent-encoding: encodeURIComponent(v), the same with `+` for spaces, and URLSearchParams' form;
//   - base64 of v's UTF-8 bytes, standard (padded and unpadded) and base64url;
//   - base64 of v embedded in a longer base64 stream (`user:password` in a Basic auth header or a
//     docker config's `auth`): v starts at one of 3 byte alignments, and for each the characters that
//     depend only on v's bytes are masked (standard and url alphabets). The character at each edge
//     mixes v's bits with its neighbours' and stays visible: at most 4 bits of v's first and last byte.
// Not covered: hex, shell/XML/other escapes, case changes, base64 wrapped across lines (PEM), and
// fragments of a value. A masked output never contains a form, unless the mask can be part of one.
//
// Every occurrence of every form is found (Aho-Corasick, one pass), and each maximal run of
// covered characters becomes one mask, so overlapping or nested forms are masked whole.

/** Shorter values would mask common words all over a log; `secret set` refuses them. */
export const MIN_SECRET_LENGTH = 4;

/** The forms a value is masked in (see the top of this file), deduplicated; [] if it is too short. */
export function secretForms(value: string): string[] {
  if (value.length < MIN_SECRET_LENGTH) return [];
  const bytes = Buffer.from(value, 'utf8');
  const b64 = bytes.toString('base64');
  const uri = encodeURIComponent(value);
  const forms = [
    value,
    JSON.stringify(value).slice(1, -1),
    uri,
    uri.replace(/%20/g, '+'),
    new URLSearchParams([['', value]]).toString().slice(1),
    b64,
    b64.replace(/=+$/, ''),
    bytes.toString('base64url'),
  ];
  for (let offset = 0; offset < 3; offset++) {
    const embedded = embeddedBase64(bytes, offset);
    forms.push(embedded, embedded.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return [...new Set(forms)].filter((f) => f.length >= MIN_SECRET_LENGTH);
}

// The base64 characters fixed by `bytes` alone when they start `offset` bytes into a 3-byte group.
function embeddedBase64(bytes: Buffer, offset: number): string {
  const padded = Buffer.concat([Buffer.alloc(offset), bytes, Buffer.alloc(2)]).toString('base64');
  const firstBit = 8 * offset;
  const endBit = firstBit + 8 * bytes.length;
  return padded.slice(Math.ceil(firstBit / 6), Math.floor(endBit / 6));
}

// Aho-Corasick over UTF-16 code units; `longest[s]` is the longest form ending at state s.
class Matcher {
  private readonly next: Map<number, number>[] = [new Map()];
  private readonly fail: number[] = [0];
  private readonly longest: number[] = [0];
  readonly maxLength: number;

  constructor(forms: readonly string[]) {
    for (const f of forms) {
      let s = 0;
      for (let i = 0; i < f.length; i++) {
        const c = f.charCodeAt(i);
        let t = this.next[s]!.get(c);
        if (t === undefined) {
          t = this.next.length;
          this.next.push(new Map());
          this.fail.push(0);
          this.longest.push(0);
          this.next[s]!.set(c, t);
        }
        s = t;
      }
      this.longest[s] = Math.max(this.longest[s]!, f.length);
    }
    // Breadth-first, so a state's failure link is final before its children use it.
    const queue = [...this.next[0]!.values()];
    for (let q = 0; q < queue.length; q++) {
      const s = queue[q]!;
      this.longest[s] = Math.max(this.longest[s]!, this.longest[this.fail[s]!]!);
      for (const [c, t] of this.next[s]!) {
        this.fail[t] = s === 0 ? 0 : this.step(this.fail[s]!, c);
        queue.push(t);
      }
    }
    this.maxLength = forms.reduce((m, f) => Math.max(m, f.length), 0);
  }

  step(state: number, c: number): number {
    let s = state;
    for (;;) {
      const t = this.next[s]!.get(c);
      if (t !== undefined) return t;
      if (s === 0) return 0;
      s = this.fail[s]!;
    }
  }

  longestEndingAt(state: number): number {
    return this.longest[state]!;
  }
}

/** Masks every form of the given values in a whole text. */
export class Redactor {
  /** @internal shared with the streams this redactor makes */
  readonly matcher: Matcher;

  constructor(values: readonly string[], readonly mask = '***') {
    this.matcher = new Matcher([...new Set(values.flatMap(secretForms))]);
  }

  redact(text: string): string {
    const s = this.stream();
    return s.push(text) + s.flush();
  }

  /** A streaming redactor with the same secrets (compiled once); use one per output stream. */
  stream(): StreamRedactor {
    return new StreamRedactor(this);
  }
}

interface Run {
  start: number; // absolute positions in the stream; a run is [start, end)
  end: number;
  masked: boolean; // its mask has been emitted already
}

/**
 * Masks secrets in text arriving in chunks: concat(push(c) for each c) + flush() equals
 * Redactor.redact(whole text), however it was split. Holds back at most (longest form − 1)
 * characters; each chunk costs time linear in its length (plus that tail).
 */
export class StreamRedactor {
  private readonly matcher: Matcher;
  private readonly mask: string;
  private state = 0; // the matcher's state after the last character seen
  private seen = 0; // characters pushed so far
  private emitted = 0; // characters decided and emitted (as themselves or under a mask)
  private pending = ''; // text of positions [emitted, seen)
  private runs: Run[] = []; // covered runs from `head` on: disjoint, ascending, ending after `emitted`
  private head = 0;

  constructor(secrets: Redactor | readonly string[], mask = '***') {
    const r = secrets instanceof Redactor ? secrets : new Redactor(secrets, mask);
    this.matcher = r.matcher;
    this.mask = r.mask;
  }

  push(chunk: string): string {
    const m = this.matcher;
    for (let i = 0; i < chunk.length; i++) {
      this.state = m.step(this.state, chunk.charCodeAt(i));
      const len = m.longestEndingAt(this.state);
      if (len > 0) this.cover(this.seen + i + 1 - len, this.seen + i + 1);
    }
    this.pending += chunk;
    this.seen += chunk.length;
    // A form found later ends after `seen`, so it starts at or after this bound.
    return this.emit(this.seen - Math.max(0, m.maxLength - 1));
  }

  flush(): string {
    return this.emit(this.seen);
  }

  // Ends arrive in ascending order, so a new run can only swallow runs at the back.
  private cover(start: number, end: number): void {
    let s = start;
    let masked = false;
    while (this.runs.length > this.head) {
      const last = this.runs[this.runs.length - 1]!;
      if (last.end < s) break;
      s = Math.min(s, last.start);
      masked ||= last.masked;
      this.runs.pop();
    }
    this.runs.push({ start: s, end, masked });
  }

  private emit(upTo: number): string {
    let out = '';
    let at = this.emitted;
    while (at < upTo) {
      const run = this.runs[this.head];
      if (run === undefined || run.start >= upTo) {
        out += this.pending.slice(at - this.emitted, upTo - this.emitted);
        at = upTo;
        break;
      }
      out += this.pending.slice(at - this.emitted, run.start - this.emitted);
      if (!run.masked) out += this.mask;
      run.masked = true;
      if (run.end < upTo) {
        this.head++;
        at = run.end;
      } else {
        // The run may still grow (a form starting at `upTo` touches it): its mask is out, the
        // rest of it stays silent.
        run.start = upTo;
        at = upTo;
      }
    }
    if (this.head > 0) {
      this.runs = this.runs.slice(this.head);
      this.head = 0;
    }
    this.pending = this.pending.slice(at - this.emitted);
    this.emitted = at;
    return out;
  }
}
