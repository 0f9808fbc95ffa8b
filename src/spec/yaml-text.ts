// Safe YAML reading. The yaml package composes documents recursively and, once warmed up, a
// document nested some thousands of levels deep can kill the process (a fatal out-of-memory in
// V8, not a catchable error). Its CST parser is iterative, so the CST is measured first and
// composed only when shallow enough. Pure.
import { type CST, Composer, isAlias, isMap, isNode, isScalar, isSeq, type Node, Parser, visit } from 'yaml';
import { type Decoded, MAX_ALIAS_COUNT, MAX_DEPTH, TOO_DEEP } from './source.js';

/** Offset of the first collection nested deeper than `max`, if any. */
function tooDeepAt(tokens: readonly CST.Token[], max: number): number | undefined {
  const stack: Array<[CST.Token, number]> = tokens.map((t) => [t, 0]);
  while (stack.length > 0) {
    const [token, depth] = stack.pop()!;
    switch (token.type) {
      case 'document':
        if (token.value) stack.push([token.value, depth]);
        break;
      case 'block-map':
      case 'block-seq':
      case 'flow-collection':
        if (depth + 1 > max) return token.offset;
        for (const item of token.items) {
          if (item.key) stack.push([item.key, depth + 1]);
          if (item.value) stack.push([item.value, depth + 1]);
        }
        break;
      default:
        break;
    }
  }
  return undefined;
}

export function decodeYaml(text: string): Decoded {
  const tokens = Array.from(new Parser().parse(text));
  const deepAt = tooDeepAt(tokens, MAX_DEPTH);
  if (deepAt !== undefined) return { ok: false, offset: deepAt, message: TOO_DEEP };
  const starts = tokens.filter((t) => t.type === 'document');
  if (starts.length > 1) {
    return { ok: false, offset: starts[1]!.offset, message: 'expected one YAML document, but another one starts here' };
  }

  // YAML 1.2 core schema without the 1.1 tags (!!binary would yield a Buffer, !!set a Set), but
  // with "<<" merge keys, which job files use to share settings between tasks. The package's own
  // duplicate-key check compares each key with every other (a map of 80k keys took half a
  // minute), so duplicateKey does it instead. Warnings (about map keys that are collections)
  // would go to the process's stderr; such keys end up as unknown fields anyway.
  const composer = new Composer({
    version: '1.2', schema: 'core', resolveKnownTags: false, uniqueKeys: false, merge: true, logLevel: 'error',
  });
  const doc = withoutStackTraces(() => Array.from(composer.compose(tokens)))[0];
  const error = doc?.errors[0] ?? composer.streamInfo().errors[0];
  const duplicate = doc ? duplicateKey(doc) : undefined;
  if (duplicate && (!error || duplicate.offset <= error.pos[0])) return { ok: false, ...duplicate };
  if (error) return { ok: false, offset: error.pos[0], message: error.message };
  if (!doc || doc.contents === null) return { ok: false, message: 'expected a job, got an empty document' };
  // Composing lets these through; toJS would throw on them.
  const bad = badReference(doc);
  if (bad) return { ok: false, ...bad };
  try {
    return { ok: true, value: doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) };
  } catch (err) {
    // toJS throws a ReferenceError when alias expansion exceeds maxAliasCount.
    if (err instanceof ReferenceError) {
      return { ok: false, message: 'too many aliases: expanding them would make the document too large' };
    }
    throw err;
  }
}

/**
 * Runs `f` with errors made cheap: a broken document can make an error of every other character
 * (only the first is shown), and their stack traces would cost seconds per MiB.
 */
function withoutStackTraces<T>(f: () => T): T {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return f();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

type Doc = Parameters<typeof visit>[0];

/** The first repeated key of any map (as the yaml package compares them: scalars by value), in linear time. */
function duplicateKey(doc: Doc): { offset: number; message: string } | undefined {
  let first: { offset: number; message: string } | undefined;
  visit(doc, {
    Map(_, map) {
      const seen = new Set<unknown>();
      for (const { key } of map.items) {
        if (!isScalar(key)) continue;
        if (!seen.has(key.value)) {
          seen.add(key.value);
          continue;
        }
        const offset = key.range?.[0] ?? 0;
        if (!first || offset < first.offset) first = { offset, message: `duplicate key ${JSON.stringify(String(key.value))}` };
        break;
      }
      return undefined;
    },
  });
  return first;
}

/**
 * The first alias without an anchor before it, or merge ("<<") whose value is not a map, an
 * alias of one, or a list of those. Anchors resolve as in the yaml package: to the last node
 * with that anchor before the alias, in document order.
 */
function badReference(doc: Doc): { offset: number | undefined; message: string } | undefined {
  const anchors = new Map<string, Node>();
  const targets = new Map<Node, Node>();
  const merges: Node[] = [];
  let bad: { offset: number | undefined; message: string } | undefined;
  visit(doc, {
    Node(_, node) {
      if (isAlias(node)) {
        const target = anchors.get(node.source);
        if (!target) {
          bad = { offset: node.range?.[0], message: `no anchor &${node.source} before the alias *${node.source}` };
          return visit.BREAK;
        }
        targets.set(node, target);
      } else if (node.anchor !== undefined) anchors.set(node.anchor, node);
      return undefined;
    },
    Pair(_, pair) {
      if (isScalar(pair.key) && typeof pair.key.value === 'symbol' && pair.key.value.description === '<<' && isNode(pair.value)) {
        merges.push(pair.value);
      }
      return undefined;
    },
  });
  if (bad) return bad;
  const deref = (n: unknown): unknown => (isAlias(n) ? targets.get(n) : n);
  for (const value of merges) {
    const source = deref(value);
    const ok = isMap(source) || (isSeq(source) && source.items.every((item) => isMap(deref(item))));
    if (!ok) return { offset: value.range?.[0], message: 'a merge key "<<" takes a map, an alias of a map, or a list of those' };
  }
  return undefined;
}
