// The images a Dockerfile pulls (FROM, COPY --from), so a builder can hand over credentials for
// their registries and no others. Best effort: what cannot be resolved (an ARG with no value) is
// left out, and the build then fails with the registry's own words if it needed credentials.
import { parseImageRef } from '../registry/index.js';

/** Registry hosts of the images the Dockerfile names, in order of appearance, without repeats. */
export function baseImageRegistries(dockerfile: string, args: Record<string, string>): string[] {
  const vars: Record<string, string> = {};
  const stages = new Set<string>();
  const hosts: string[] = [];
  let seenFrom = false;
  const add = (image: string): void => {
    const name = substitute(image, { ...vars, ...args });
    if (name === undefined || name === 'scratch' || stages.has(name.toLowerCase()) || /^\d+$/.test(name)) return;
    try {
      const host = parseImageRef(name).registry;
      if (!hosts.includes(host)) hosts.push(host);
    } catch {
      // not an image reference after all; the builder will say what is wrong with it
    }
  };
  for (const line of instructions(dockerfile)) {
    const [keyword = '', ...words] = line.split(/\s+/);
    const op = keyword.toUpperCase();
    if (op === 'ARG' && !seenFrom) {
      // Only ARGs before the first FROM are in scope for FROM lines.
      for (const w of words) {
        const eq = w.indexOf('=');
        if (eq > 0) vars[w.slice(0, eq)] = unquote(w.slice(eq + 1));
      }
    } else if (op === 'FROM') {
      seenFrom = true;
      const rest = words.filter((w) => !w.startsWith('--'));
      if (rest[0] !== undefined) add(rest[0]);
      if (rest[1]?.toUpperCase() === 'AS' && rest[2] !== undefined) stages.add(rest[2].toLowerCase());
    } else if (op === 'COPY') {
      for (const w of words) if (w.startsWith('--from=')) add(w.slice('--from='.length));
    }
  }
  return hosts;
}

/** Logical lines: comments dropped, backslash continuations joined. */
function instructions(text: string): string[] {
  const out: string[] = [];
  let current = '';
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.startsWith('#')) continue;
    if (line.endsWith('\\')) {
      current += `${line.slice(0, -1)} `;
      continue;
    }
    current += line;
    if (current.trim() !== '') out.push(current.trim());
    current = '';
  }
  if (current.trim() !== '') out.push(current.trim());
  return out;
}

/** `$X`, `${X}`, `${X:-default}`; undefined when a variable has no value. */
function substitute(word: string, vars: Record<string, string>): string | undefined {
  let missing = false;
  const out = word.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_m, braced: string | undefined, dflt: string | undefined, bare: string | undefined) => {
    const set = vars[braced ?? bare ?? ''];
    const value = set !== undefined && set !== '' ? set : dflt;
    if (value === undefined || value === '') missing = true;
    return value ?? '';
  });
  return missing ? undefined : out;
}

function unquote(s: string): string {
  return /^(["']).*\1$/.test(s) ? s.slice(1, -1) : s;
}
