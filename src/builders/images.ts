// The coordinator between tasks and a Builder: content-addresses a task's build, skips it when
// the image exists, and builds each tag once at a time however many tasks ask for it together.
import type { BuildPlan } from '../spec/plan.js';
import { tagBuild } from './content-tag.js';
import type { BuildContext } from './context.js';
import { abortReason, BuildError } from './errors.js';
import type { Builder } from './types.js';
import { formatImageRef, parseImageRef } from './registry/image-ref.js';

export interface ImageRefs {
  /** Where the builder puts the image (and where `exists` looks). */
  push: string;
  /** What a task's container runs; may name the same registry by another host. */
  pull: string;
}

export interface ImageBuildsOptions {
  builder: Builder;
  /** The references of a content tag, e.g. `127.0.0.1:5000/wharf/builds:<tag>`. */
  refs: (tag: string) => ImageRefs;
}

export interface ResolvedImage {
  /** The pull reference, for the task's container. */
  image: string;
  /** True when the image did not exist and a build (this caller's or a shared one) made it. */
  built: boolean;
  tag: string;
}

type Log = (line: string) => void;

/** One build (or existence check) of one push reference, shared by everyone who asks meanwhile. */
class Flight {
  readonly controller = new AbortController();
  readonly logs = new Set<Log>();
  /** Whether this flight built (not skipped), and the pushed digest when the builder told it. */
  result!: Promise<{ built: boolean; digest?: string }>;

  log(line: string): void {
    for (const l of this.logs) l(line);
  }
}

export class ImageBuilds {
  readonly #builder: Builder;
  readonly #refs: (tag: string) => ImageRefs;
  readonly #flights = new Map<string, Flight>();

  constructor(opts: ImageBuildsOptions) {
    this.#builder = opts.builder;
    this.#refs = opts.refs;
  }

  /**
   * The image for `build`: found under its content tag, or built and pushed. Rejects with a
   * BuildContextError for a bad `build` section, a BuildError when the build fails, or the
   * signal's reason when `signal` aborts (the build goes on while another caller still waits).
   */
  async resolve(build: BuildPlan, log: Log, signal: AbortSignal): Promise<ResolvedImage> {
    if (signal.aborted) throw abortReason(signal);
    const { tag, context, digest } = await tagBuild(build, signal);
    const refs = this.#refs(tag);
    log(`[build] context ${context.dir} (${context.entries.length} entries, ${formatBytes(context.bytes)}), dockerfile ${context.dockerfile}: tag ${tag}`);
    let flight = this.#flights.get(refs.push);
    if (flight) log(`[build] image ${refs.push}: waiting for the same build, already in progress`);
    else flight = this.#start(build, context, digest, refs);
    const { built, digest: pushed } = await this.#join(flight, refs.push, log, signal);
    // By digest when known: what runs is exactly what was pushed.
    return { image: pushed ? formatImageRef({ ...parseImageRef(refs.pull), tag: undefined, digest: pushed }) : refs.pull, built, tag };
  }

  #start(build: BuildPlan, context: BuildContext, contextDigest: string, refs: ImageRefs): Flight {
    const flight = new Flight();
    const signal = flight.controller.signal;
    flight.result = (async () => {
      let exists: boolean;
      try {
        exists = await this.#builder.exists(refs.push, signal);
      } catch (e) {
        throw asBuildError(e, signal, `could not check whether image ${refs.push} exists`);
      }
      if (exists) {
        flight.log(`[build] image ${refs.push} exists, build skipped`);
        return { built: false };
      }
      const started = Date.now();
      flight.log(`[build] building ${refs.push} with ${this.#builder.name}`);
      let digest;
      try {
        digest = await this.#builder.build({ build, context, contextDigest, pushRef: refs.push, pullRef: refs.pull, log: (l) => flight.log(l), signal });
      } catch (e) {
        throw asBuildError(e, signal, `building ${refs.push} failed`);
      }
      flight.log(`[build] built ${refs.push} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      return typeof digest === 'string' ? { built: true, digest } : { built: true };
    })().finally(() => {
      if (this.#flights.get(refs.push) === flight) this.#flights.delete(refs.push);
    });
    flight.result.catch(() => undefined); // every waiter may have left; the outcome is theirs to see
    this.#flights.set(refs.push, flight);
    return flight;
  }

  #join(flight: Flight, ref: string, log: Log, signal: AbortSignal): Promise<{ built: boolean; digest?: string }> {
    flight.logs.add(log);
    return new Promise((resolve, reject) => {
      const leave = (): void => {
        signal.removeEventListener('abort', onAbort);
        flight.logs.delete(log);
      };
      const onAbort = (): void => {
        leave();
        if (flight.logs.size > 0) return reject(abortReason(signal));
        // Nobody waits any more: stop the build, let a new request start afresh, and answer once
        // the builder has stopped, so that nothing it started outlives the caller's cancel.
        if (this.#flights.get(ref) === flight) this.#flights.delete(ref);
        flight.controller.abort(abortReason(signal));
        flight.result.then(
          () => reject(abortReason(signal)),
          () => reject(abortReason(signal)),
        );
      };
      signal.addEventListener('abort', onAbort, { once: true });
      flight.result.then(
        (r) => { leave(); resolve(r); },
        (err: unknown) => { leave(); reject(err); },
      );
    });
  }
}

/** Builders throw BuildErrors; anything else (a bug, a registry client's error) is wrapped. */
function asBuildError(e: unknown, signal: AbortSignal, what: string): unknown {
  if (e instanceof BuildError || signal.aborted) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new BuildError(`${what}: ${message}`, { cause: e });
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}
