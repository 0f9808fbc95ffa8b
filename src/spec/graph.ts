// Checks of the task graph that a schema cannot express: needs that name no task, a task that
// needs itself, a need listed twice, and dependency cycles. Works on the raw map too, so these
// errors come together with the schema's own. Pure.
import type { ErrorDetail } from './api.js';
import { closest, formatPath } from './errors.js';
import { isPlainObject } from './source.js';

/** Cycles listed before the rest are summarised; a dense graph has exponentially many. */
export const MAX_CYCLES = 10;

/** The string entries of a task's `needs`, with their index; other entries are the schema's business. */
function needsOf(task: unknown): Array<{ need: string; index: number }> {
  if (!isPlainObject(task) || !Array.isArray(task.needs)) return [];
  const out: Array<{ need: string; index: number }> = [];
  task.needs.forEach((need: unknown, index) => {
    if (typeof need === 'string') out.push({ need, index });
  });
  return out;
}

/** Graph errors of a task map, which need not have passed the schema. */
export function checkGraph(tasks: Readonly<Record<string, unknown>>): ErrorDetail[] {
  const names = Object.keys(tasks);
  const known = new Set(names);
  const errors: ErrorDetail[] = [];
  const graph = new Map<string, string[]>();
  let suggestions = 100_000;
  for (const name of names) {
    const firstAt = new Map<string, number>();
    const deps: string[] = [];
    for (const { need, index } of needsOf(tasks[name])) {
      const path = formatPath(['tasks', name, 'needs', index]);
      const earlier = firstAt.get(need);
      if (need === name) errors.push({ path, message: `task ${JSON.stringify(name)} cannot need itself` });
      else if (earlier !== undefined) errors.push({ path, message: `${JSON.stringify(need)} is already listed at needs[${earlier}]` });
      else if (!known.has(need)) {
        // Suggestions cost a pass over all names; thousands of unknown needs get none after a while.
        const guess = (suggestions -= names.length) >= 0 ? closest(need, names.filter((n) => n !== name)) : undefined;
        errors.push({ path, message: `no task ${JSON.stringify(need)}${guess === undefined ? '' : `; did you mean ${JSON.stringify(guess)}?`}` });
      } else deps.push(need);
      if (earlier === undefined) firstAt.set(need, index);
    }
    graph.set(name, deps);
  }
  const { cycles, more } = findCycles(graph, MAX_CYCLES);
  for (const cycle of cycles) {
    errors.push({ path: formatPath(['tasks', cycle[0]!, 'needs']), message: `dependency cycle: ${[...cycle, cycle[0]].join(' → ')}` });
  }
  if (more) errors.push({ path: 'tasks', message: `more dependency cycles not listed (only the first ${MAX_CYCLES} are)` });
  return errors;
}

/**
 * Task names with every task after the tasks it needs; ties keep the map's order. Needs naming
 * no task are ignored. Throws on a cycle, which a validated spec does not have.
 */
export function topoOrder(tasks: Readonly<Record<string, { needs?: readonly string[] | undefined }>>): string[] {
  const names = Object.keys(tasks);
  const pending = new Map<string, number>();
  const dependents = new Map<string, string[]>(names.map((n) => [n, []]));
  for (const name of names) {
    const deps = new Set((tasks[name]?.needs ?? []).filter((d) => dependents.has(d) && d !== name));
    pending.set(name, deps.size);
    for (const d of deps) dependents.get(d)!.push(name);
  }
  const order = names.filter((n) => pending.get(n) === 0);
  for (let i = 0; i < order.length; i++) {
    for (const next of dependents.get(order[i]!)!) {
      const left = pending.get(next)! - 1;
      pending.set(next, left);
      if (left === 0) order.push(next);
    }
  }
  if (order.length < names.length) {
    throw new Error(`dependency cycle among: ${names.filter((n) => pending.get(n)! > 0).join(', ')}`);
  }
  return order;
}

/**
 * Every elementary cycle of `graph` (task → tasks it needs), up to `limit`, by Johnson's algorithm
 * made iterative so that long chains cannot overflow the stack. Each cycle starts at its
 * alphabetically first task; cycles come in order of that task, then of the path.
 */
export function findCycles(graph: ReadonlyMap<string, readonly string[]>, limit = MAX_CYCLES): { cycles: string[][]; more: boolean } {
  const order = [...graph.keys()].sort();
  const index = new Map(order.map((n, i) => [n, i]));
  const adj = order.map((n) => [...new Set((graph.get(n) ?? []).map((d) => index.get(d)).filter((i): i is number => i !== undefined))].sort((a, b) => a - b));
  const cycles: string[][] = [];

  // Johnson: start at the least task of any cycle among the tasks not yet used as a start. Each
  // round finds at least one cycle, so the limit also bounds the rounds.
  for (let from = 0; from < order.length; from++) {
    let best: number[] | undefined;
    let s = Infinity;
    for (const comp of components(adj, from)) {
      const least = comp.reduce((a, b) => Math.min(a, b));
      if (least < s) {
        s = least;
        best = comp;
      }
    }
    if (best === undefined) break;
    from = s;
    const scc = new Set(best);
    const next = (v: number): number[] => adj[v]!.filter((w) => scc.has(w));
    const blocked = new Set<number>([s]);
    const blockedBy = new Map<number, Set<number>>();
    const unblock = (u: number): void => {
      const todo = [u];
      while (todo.length > 0) {
        const x = todo.pop()!;
        blocked.delete(x);
        const waiting = blockedBy.get(x);
        if (!waiting) continue;
        for (const w of waiting) if (blocked.has(w)) todo.push(w);
        waiting.clear();
      }
    };
    const path = [s];
    const frames = [{ v: s, kids: next(s), i: 0, found: false }];
    while (frames.length > 0) {
      const f = frames[frames.length - 1]!;
      if (f.i < f.kids.length) {
        const w = f.kids[f.i++]!;
        if (w === s) {
          if (cycles.length === limit) return { cycles, more: true };
          cycles.push(path.map((v) => order[v]!));
          f.found = true;
        } else if (!blocked.has(w)) {
          blocked.add(w);
          path.push(w);
          frames.push({ v: w, kids: next(w), i: 0, found: false });
        }
        continue;
      }
      if (f.found) unblock(f.v);
      else for (const w of f.kids) (blockedBy.get(w) ?? blockedBy.set(w, new Set()).get(w)!).add(f.v);
      frames.pop();
      path.pop();
      const parent = frames[frames.length - 1];
      if (parent && f.found) parent.found = true;
    }
  }
  return { cycles, more: false };
}

/** Strongly connected components with more than one node among nodes >= from (Tarjan, iterative). */
function components(adj: readonly number[][], from: number): number[][] {
  const index = new Array<number>(adj.length).fill(-1);
  const low = new Array<number>(adj.length).fill(0);
  const onStack = new Set<number>();
  const stack: number[] = [];
  const out: number[][] = [];
  let counter = 0;
  const visit = (v: number, work: Array<[number, number]>): void => {
    index[v] = low[v] = counter++;
    stack.push(v);
    onStack.add(v);
    work.push([v, 0]);
  };
  for (let root = from; root < adj.length; root++) {
    if (index[root] !== -1) continue;
    const work: Array<[number, number]> = [];
    visit(root, work);
    while (work.length > 0) {
      const top = work[work.length - 1]!;
      const v = top[0];
      const edges = adj[v]!;
      if (top[1] < edges.length) {
        const w = edges[top[1]++]!;
        if (w < from) continue;
        if (index[w] === -1) visit(w, work);
        else if (onStack.has(w)) low[v] = Math.min(low[v]!, index[w]!);
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low[parent[0]] = Math.min(low[parent[0]]!, low[v]!);
      if (low[v] === index[v]) {
        const comp: number[] = [];
        let w: number;
        do {
          w = stack.pop()!;
          onStack.delete(w);
          comp.push(w);
        } while (w !== v);
        if (comp.length > 1) out.push(comp);
      }
    }
  }
  return out;
}
