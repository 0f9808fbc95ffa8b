// WWW-Authenticate challenges (RFC 7235): `Bearer realm="…",service="…",scope="…"`, `Basic realm="…"`,
// possibly several in one header.

export interface Challenge {
  /** Lower case: `basic`, `bearer`, … */
  scheme: string;
  /** Parameter names lower case; values unquoted. */
  params: Record<string, string>;
}

const TOKEN = /[!#$%&'*+.^_`|~0-9A-Za-z-]+/y;
const WS = /[ \t]*/y;

export function parseWwwAuthenticate(header: string): Challenge[] {
  const out: Challenge[] = [];
  let i = 0;
  const skip = (re: RegExp): string => {
    re.lastIndex = i;
    const m = re.exec(header);
    if (!m) return '';
    i = re.lastIndex;
    return m[0];
  };
  const skipSeparators = (): void => {
    while (i < header.length && (header[i] === ',' || header[i] === ' ' || header[i] === '\t')) i++;
  };
  const quoted = (): string => {
    let v = '';
    i++; // opening quote
    while (i < header.length && header[i] !== '"') {
      if (header[i] === '\\' && i + 1 < header.length) i++;
      v += header[i];
      i++;
    }
    i++; // closing quote
    return v;
  };

  let current: Challenge | undefined;
  while (i < header.length) {
    skipSeparators();
    const name = skip(TOKEN);
    if (name === '') {
      i++; // not a token: skip the character rather than loop forever
      continue;
    }
    skip(WS);
    if (header[i] === '=') {
      i++;
      skip(WS);
      const value = header[i] === '"' ? quoted() : skip(TOKEN);
      if (current) current.params[name.toLowerCase()] = value;
      continue;
    }
    // A token not followed by "=" starts a new challenge.
    current = { scheme: name.toLowerCase(), params: {} };
    out.push(current);
  }
  return out;
}
