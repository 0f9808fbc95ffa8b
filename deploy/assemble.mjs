// Runs in the build stage of deploy/Dockerfile (cwd: the build context) and lays out in /out what
// the final image gets, so that stage is a few COPYs of a node-only base (no shell needed):
//   /out/app   the CLI bundle (re-made here with the repo's own scripts/bundle.mjs, so chunks a
//              host's dist/bin kept from older builds never reach the image), a package.json
//              (the bundle is ESM), and better-sqlite3 with its runtime dependencies — the only
//              package the bundle leaves external (a native addon).
//   /out/etc   the base's passwd and group plus the wharf user (UID/GID from the arguments).
//   /out/home  an empty directory, copied as WHARF_HOME owned by that user.
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [uid = '', gid = ''] = process.argv.slice(2);
if (!/^[1-9]\d*$/.test(uid) || !/^[1-9]\d*$/.test(gid)) fail(`expected a non-zero numeric UID and GID, got ${JSON.stringify([uid, gid])}`);
const OUT = '/out';
/** better-sqlite3 needs these only to fetch or compile its addon at install time. */
const INSTALL_ONLY = new Set(['prebuild-install']);

rmSync('dist/bin', { recursive: true, force: true });
await import(new URL('../scripts/bundle.mjs', import.meta.url).href);

const app = join(OUT, 'app');
mkdirSync(join(app, 'dist/bin'), { recursive: true });
for (const f of readdirSync('dist/bin')) if (f.endsWith('.js')) cpSync(join('dist/bin', f), join(app, 'dist/bin', f));
const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
writeFileSync(join(app, 'package.json'), `${JSON.stringify({ name: pkg.name, version: pkg.version, license: pkg.license, type: 'module', private: true }, null, 2)}\n`);

// better-sqlite3: its JS, its addon and licence (not its C sources, object files or SQLite amalgamation).
const sqlite = 'node_modules/better-sqlite3';
for (const p of ['package.json', 'LICENSE', 'lib', 'build/Release/better_sqlite3.node']) {
  if (!existsSync(join(sqlite, p))) fail(`${sqlite}/${p} is missing: run npm ci (and npm run build) before building the image`);
  cpSync(join(sqlite, p), join(app, sqlite, p), { recursive: true });
}
for (const name of runtimeDependencies('better-sqlite3')) cpSync(join('node_modules', name), join(app, 'node_modules', name), { recursive: true });

// The wharf user: appended to the base's own files, so whatever users the base has stay.
mkdirSync(join(OUT, 'etc'), { recursive: true });
const passwd = readFileSync('/etc/passwd', 'utf8');
const group = readFileSync('/etc/group', 'utf8');
if (passwd.split('\n').some((l) => l.split(':')[2] === uid)) fail(`the base image already has a user with UID ${uid}`);
if (group.split('\n').some((l) => l.split(':')[2] === gid)) fail(`the base image already has a group with GID ${gid}`);
writeFileSync(join(OUT, 'etc/passwd'), `${passwd.replace(/\n?$/, '\n')}wharf:x:${uid}:${gid}:wharf:/var/lib/wharf:/sbin/nologin\n`);
writeFileSync(join(OUT, 'etc/group'), `${group.replace(/\n?$/, '\n')}wharf:x:${gid}:\n`);
mkdirSync(join(OUT, 'home'), { recursive: true });

/** The packages `name` needs at run time, transitively (hoisted node_modules, as npm lays them out). */
function runtimeDependencies(name) {
  const seen = new Set();
  const visit = (n) => {
    const file = join('node_modules', n, 'package.json');
    if (!existsSync(file)) fail(`${file} is missing (a dependency of better-sqlite3): run npm ci before building the image`);
    for (const dep of Object.keys(JSON.parse(readFileSync(file, 'utf8')).dependencies ?? {})) {
      if (INSTALL_ONLY.has(dep) || seen.has(dep)) continue;
      seen.add(dep);
      visit(dep);
    }
  };
  visit(name);
  return [...seen].sort();
}

function fail(message) {
  process.stderr.write(`deploy/assemble.mjs: ${message}\n`);
  process.exit(1);
}
