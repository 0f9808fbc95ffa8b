// Safe YAML reading. The yaml package composes documents recursively and, once warmed up, a
// document nested some thousands of levels deep can kill the process (a fatal out-of-memory in
// V8, not a catchable error). Its CST parser is iterative, so the CST is measured first and
// composed only when shallow enough. Pure.
import { type CST, Composer, isScalar, Parser, visit } from 'yaml';
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
  // with "<<" merge keys, which job files use to share settings between tasks.
  const composer = new Composer({ version: '1.2', schema: 'core', resolveKnownTags: false, uniqueKeys: true, merge: true });
  const docs = Array.from(composer.compose(tokens));
  const doc = docs[0];
  const streamError = composer.streamInfo().errors[0];
  const error = doc?.errors[0] ?? streamError;
  if (error) {
    let message = error.message;
    if (error.code === 'DUPLICATE_KEY' && doc) {
      const key = keyAt(doc, error.pos[0]);
      message = key === undefined ? 'duplicate key' : `duplicate key ${JSON.stringify(key)}`;
    }
    return { ok: false, offset: error.pos[0], message };
  }
  if (!doc || doc.contents === null) return { ok: false, message: 'expected a job, got an empty document' };
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

/** Text of the scalar map key that starts at `offset`, to name a duplicate key. */
function keyAt(doc: Parameters<typeof visit>[0], offset: number): string | undefined {
  let found: string | undefined;
  visit(doc, {
    Pair(_, pair) {
      if (isScalar(pair.key) && pair.key.range?.[0] === offset) {
        found = String(pair.key.value);
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return found;
}
