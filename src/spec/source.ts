// Shared pieces of decoding job-file text: the decode result, positions, and the nesting limit
// that keeps hostile documents from exhausting the stack. Pure.

/** Deepest nesting of maps and lists accepted anywhere (a job file needs about six). */
export const MAX_DEPTH = 64;
/** The yaml package's budget for alias expansion; bounds "billion laughs" documents. */
export const MAX_ALIAS_COUNT = 100;

export const TOO_DEEP = `nested more than ${MAX_DEPTH} levels deep`;

/** A failure has an offset into the text when it is tied to a place in it. */
export type Decoded = { ok: true; value: unknown } | { ok: false; offset?: number; message: string };

/** 1-based line and column (in UTF-16 units) of an offset. */
export function lineCol(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    start = i + 1;
  }
  return { line, column: offset - start + 1 };
}

/** "line 3, column 5: message", or the bare message when there is no place. */
export function placed(text: string, offset: number | undefined, message: string): string {
  if (offset === undefined) return message;
  const { line, column } = lineCol(text, offset);
  return `line ${line}, column ${column}: ${message}`;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function isContainer(v: unknown): v is object {
  return Array.isArray(v) || isPlainObject(v);
}

function children(v: object): unknown[] {
  return Array.isArray(v) ? v : Object.values(v);
}

/**
 * Whether maps and lists nest deeper than `max`, counting a cycle as infinitely deep. Iterative,
 * and each shared object is measured once, so aliases and shared references cannot blow it up.
 */
export function exceedsDepth(root: unknown, max = MAX_DEPTH): boolean {
  if (!isContainer(root)) return false;
  interface Frame { node: object; kids: unknown[]; next: number; height: number }
  const heights = new Map<object, number>();
  const onPath = new Set<object>([root]);
  const stack: Frame[] = [{ node: root, kids: children(root), next: 0, height: 1 }];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    if (top.next < top.kids.length) {
      const kid = top.kids[top.next++];
      if (!isContainer(kid)) continue;
      if (onPath.has(kid)) return true;
      const known = heights.get(kid);
      if (known !== undefined) {
        if (stack.length + known > max) return true;
        top.height = Math.max(top.height, known + 1);
        continue;
      }
      if (stack.length + 1 > max) return true;
      onPath.add(kid);
      stack.push({ node: kid, kids: children(kid), next: 0, height: 1 });
    } else {
      stack.pop();
      onPath.delete(top.node);
      heights.set(top.node, top.height);
      const parent = stack[stack.length - 1];
      if (parent) parent.height = Math.max(parent.height, top.height + 1);
    }
  }
  return false;
}
