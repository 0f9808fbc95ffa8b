// The engine's build and push progress, turned into whole log lines. Build output arrives as
// `stream` fragments that split and join lines arbitrarily; push progress repeats per layer.
import type { IncomingMessage } from 'node:http';
import { jsonLines } from '../../docker/index.js';

/** Splits text chunks into lines; a partial line waits for its end (or for flush). */
export class LineSplitter {
  #rest = '';
  constructor(private readonly emit: (line: string) => void) {}

  push(text: string): void {
    const parts = (this.#rest + text).split(/\r?\n/);
    this.#rest = parts.pop() ?? '';
    for (const p of parts) this.emit(p);
  }

  flush(): void {
    if (this.#rest !== '') this.emit(this.#rest);
    this.#rest = '';
  }
}

/** The last few lines seen, to quote in an error. */
export class Tail {
  readonly #lines: string[] = [];
  constructor(private readonly size = 12) {}

  add(line: string): void {
    if (line.trim() === '') return;
    this.#lines.push(line);
    if (this.#lines.length > this.size) this.#lines.shift();
  }

  text(): string {
    return this.#lines.map((l) => `  ${l}`).join('\n');
  }
}

const ANSI = /\x1b\[[0-9;]*[A-Za-z]/g;
const RUNNING = /^ ---> Running in ([0-9a-f]{12,64})$/;

interface BuildLine {
  stream?: string;
  status?: string;
  id?: string;
  progressDetail?: { current?: number };
  aux?: { ID?: string };
}

/** What a build has said so far about itself. */
export interface BuildState {
  /** The intermediate container of the step running now (classic builder: "Running in <id>"). */
  container?: string;
  /** The built image's id, once the engine says it. */
  image?: string;
}

/** Logs a /build answer line by line. A failure line rejects with the engine's EngineError. */
export async function followBuild(res: IncomingMessage, log: (line: string) => void, tail: Tail, state: BuildState): Promise<void> {
  const lines = new LineSplitter((raw) => {
    // The engine colours a RUN's stderr with ANSI escapes; a task log wants plain text.
    const l = raw.replace(ANSI, '');
    const running = RUNNING.exec(l);
    if (running) state.container = running[1];
    log(l);
    tail.add(l);
  });
  try {
    for await (const msg of jsonLines<BuildLine>(res)) {
      if (typeof msg.stream === 'string') lines.push(msg.stream);
      else if (typeof msg.status === 'string' && !inProgress(msg)) lines.push(`${msg.id ? `${msg.id}: ` : ''}${msg.status}\n`);
      if (typeof msg.aux?.ID === 'string') state.image = msg.aux.ID;
    }
  } finally {
    lines.flush();
  }
}

/** Logs a push answer: one line per layer state change, not every progress tick. */
export async function followPush(res: IncomingMessage, log: (line: string) => void): Promise<void> {
  for await (const msg of jsonLines<BuildLine>(res)) {
    if (typeof msg.status === 'string' && !inProgress(msg)) log(`${msg.id ? `${msg.id}: ` : ''}${msg.status}`);
  }
}

function inProgress(msg: BuildLine): boolean {
  return msg.progressDetail !== undefined && typeof msg.progressDetail.current === 'number';
}
