// A small strict JSON reader. JSON.parse cannot do what a job file needs: it silently keeps the
// last of duplicate keys, its messages on Node 20 often lack a position, and it has no depth
// limit. Recursion here is bounded by MAX_DEPTH. Pure.
import { type Decoded, MAX_DEPTH, TOO_DEEP } from './source.js';

class JsonSyntaxError extends Error {
  constructor(readonly offset: number, message: string) {
    super(message);
  }
}

const WHITESPACE = /[ \t\n\r]*/y;
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const ESCAPES = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't']);
const LITERALS: ReadonlyArray<readonly [string, unknown]> = [['true', true], ['false', false], ['null', null]];

function shown(ch: string | undefined): string {
  return ch === undefined ? 'end of input' : JSON.stringify(ch);
}

export function decodeJson(text: string, maxDepth = MAX_DEPTH): Decoded {
  let i = 0;
  const fail = (message: string, at = i): never => {
    throw new JsonSyntaxError(at, message);
  };
  const skipSpace = (): void => {
    WHITESPACE.lastIndex = i;
    WHITESPACE.exec(text);
    i = WHITESPACE.lastIndex;
  };
  const expect = (ch: string, what: string): void => {
    skipSpace();
    if (text[i] !== ch) fail(`unexpected ${shown(text[i])}; expected ${what}`);
    i++;
  };

  const readString = (): string => {
    const start = i;
    let j = i + 1;
    for (;;) {
      if (j >= text.length) fail('unterminated string', start);
      const ch = text.charCodeAt(j);
      if (ch === 0x22) break;
      if (ch < 0x20) fail('control character in a string (write a newline as \\n)', j);
      if (ch === 0x5c) {
        const e = text[j + 1];
        if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(j + 2, j + 6))) j += 6;
        else if (e !== undefined && ESCAPES.has(e)) j += 2;
        else fail(`invalid escape "\\${e ?? ''}" in a string`, j);
        continue;
      }
      j++;
    }
    i = j + 1;
    // The scan above proved the literal valid; JSON.parse only decodes its escapes.
    return JSON.parse(text.slice(start, i)) as string;
  };

  const readValue = (depth: number): unknown => {
    skipSpace();
    const ch = text[i];
    if (ch === '{' || ch === '[') {
      if (depth + 1 > maxDepth) fail(TOO_DEEP);
      return ch === '{' ? readObject(depth + 1) : readArray(depth + 1);
    }
    if (ch === '"') return readString();
    NUMBER.lastIndex = i;
    const num = NUMBER.exec(text);
    if (num) {
      i = NUMBER.lastIndex;
      return Number(num[0]);
    }
    for (const [word, value] of LITERALS) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return value;
      }
    }
    return fail(`unexpected ${shown(ch)}; expected a value`);
  };

  const readObject = (depth: number): Record<string, unknown> => {
    const obj: Record<string, unknown> = {};
    i++;
    skipSpace();
    if (text[i] === '}') {
      i++;
      return obj;
    }
    for (;;) {
      skipSpace();
      if (text[i] !== '"') fail(`unexpected ${shown(text[i])}; expected a field name in double quotes`);
      const keyAt = i;
      const key = readString();
      if (Object.hasOwn(obj, key)) fail(`duplicate key ${JSON.stringify(key)}`, keyAt);
      expect(':', '":"');
      const value = readValue(depth);
      // Plain assignment of "__proto__" would replace the prototype instead of adding a field.
      Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
      skipSpace();
      if (text[i] === ',') i++;
      else if (text[i] === '}') {
        i++;
        return obj;
      } else fail(`unexpected ${shown(text[i])}; expected "," or "}"`);
    }
  };

  const readArray = (depth: number): unknown[] => {
    const arr: unknown[] = [];
    i++;
    skipSpace();
    if (text[i] === ']') {
      i++;
      return arr;
    }
    for (;;) {
      arr.push(readValue(depth));
      skipSpace();
      if (text[i] === ',') i++;
      else if (text[i] === ']') {
        i++;
        return arr;
      } else fail(`unexpected ${shown(text[i])}; expected "," or "]"`);
    }
  };

  try {
    const value = readValue(0);
    skipSpace();
    if (i < text.length) fail(`unexpected ${shown(text[i])} after the end of the JSON value`);
    return { ok: true, value };
  } catch (err) {
    if (err instanceof JsonSyntaxError) return { ok: false, offset: err.offset, message: err.message };
    throw err;
  }
}
