// Bundles the CLI after tsc: one ESM file per lazily-loaded command instead of hundreds of
// modules, which halves `wharf run`'s start-up. better-sqlite3 stays external (native addon).
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

// Chunk names carry content hashes: without a clean directory, old chunks would pile up.
rmSync('dist/bin', { recursive: true, force: true });

await build({
  entryPoints: ['dist/src/cli/main.js'],
  outdir: 'dist/bin',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // pg-native: pg's optional libpq binding, never used (pg's pure-JS client is).
  external: ['better-sqlite3', 'pg-native'],
  sourcemap: true,
  logLevel: 'warning',
  // Bundled CommonJS dependencies call require(); give ESM output one.
  banner: { js: "import { createRequire as __wharfRequire } from 'node:module'; const require = __wharfRequire(import.meta.url);" },
});
