// Real PostgreSQL for the tests: a throwaway cluster (initdb on a temporary directory, pg_ctl
// on a free loopback port, password auth for a `wharf` superuser, durability off for speed).
//
// startPostgres() gives a test its own cluster to stop, restart or kill. testPostgres() shares
// one cluster per test process, run by this same file as a child process (`node postgres.js
// serve`) that stops the cluster when our end of its stdin closes, so the cluster goes away
// however this process ends. freshDatabase() makes an empty database in it per test.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { chown, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);
/** Debian's PostgreSQL binaries, of the newest version installed. */
const BIN = (() => {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))) : [];
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  return newest === undefined ? join(root, 'none-installed', 'bin') : join(root, newest, 'bin');
})();
const USER = 'wharf';

export interface TestPostgres {
  /** postgres://wharf:<password>@127.0.0.1:<port>/postgres */
  url: string;
  port: number;
  /** The password inside `url` (tests check that it never leaks). */
  password: string;
  dataDir: string;
  /** Stops the cluster and removes its files. */
  stop(): Promise<void>;
  /** Stops it (if running) and starts it again on the same port and data. */
  restart(): Promise<void>;
  /** An immediate shutdown: every connection drops at once, as in a crash. */
  kill(): Promise<void>;
}

/** A PostgreSQL program's command line, as the `postgres` user when we are root (it refuses to run as root). */
function pgCommand(program: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', join(BIN, program), ...args]] : [join(BIN, program), args];
}

async function pgRun(program: string, args: string[]): Promise<string> {
  const [cmd, full] = pgCommand(program, args);
  const { stdout } = await run(cmd, full, { timeout: 60_000 });
  return stdout;
}

// Clusters still running when this process exits (a test that never reached its cleanup):
// stopped at once and removed, synchronously, as 'exit' handlers must.
const live = new Map<string, string>(); // data dir → its temporary directory
process.on('exit', () => {
  for (const [dataDir, dir] of live) {
    try {
      const [cmd, args] = pgCommand('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', '-t', '20', 'stop']);
      execFileSync(cmd, args, { stdio: 'ignore', timeout: 30_000 });
    } catch {
      // already stopped
    }
    rmSync(dir, { recursive: true, force: true });
  }
});

async function freePort(): Promise<number> {
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address() as AddressInfo;
  srv.close();
  await once(srv, 'close');
  return port;
}

async function chownToPostgres(path: string): Promise<void> {
  if (process.getuid?.() !== 0) return;
  const uid = Number((await run('id', ['-u', 'postgres'])).stdout.trim());
  const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
  await chown(path, uid, gid);
}

/**
 * `durable`: commits are on disk (well, in the OS) when they return, as in production, so a
 * kill() loses none; otherwise (faster) the last commits may vanish in a kill, which a fault
 * test would take for a bug of Wharf's.
 */
export async function startPostgres(o: { durable?: boolean } = {}): Promise<TestPostgres> {
  const dir = await mkdtemp(join(tmpdir(), 'wharf-pg-'));
  const dataDir = join(dir, 'data');
  const log = join(dir, 'postgres.log');
  const password = `pw${randomBytes(12).toString('hex')}`;
  let port = 0;
  let running = false;

  const start = async (): Promise<void> => {
    const opts = `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c fsync=off -c full_page_writes=off${o.durable ? '' : ' -c synchronous_commit=off'}`;
    try {
      await pgRun('pg_ctl', ['-D', dataDir, '-l', log, '-w', '-t', '60', '-o', opts, 'start']);
      running = true;
    } catch (e) {
      const tail = (await readFile(log, 'utf8').catch(() => '')).split('\n').slice(-15).join('\n');
      throw new Error(`PostgreSQL did not start on 127.0.0.1:${port}: ${e instanceof Error ? e.message : String(e)}\n${tail}`);
    }
  };
  const halt = async (mode: 'fast' | 'immediate'): Promise<void> => {
    if (!running) return;
    await pgRun('pg_ctl', ['-D', dataDir, '-m', mode, '-w', '-t', '60', 'stop']);
    running = false;
  };

  live.set(dataDir, dir);
  try {
    await chownToPostgres(dir);
    const pwfile = join(dir, 'pwfile');
    await writeFile(pwfile, `${password}\n`, { mode: 0o600 });
    await chownToPostgres(pwfile);
    await pgRun('initdb', [
      '-D', dataDir, '-U', USER, `--pwfile=${pwfile}`, '-A', 'scram-sha-256', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions',
    ]);
    await rm(pwfile);
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      try {
        await start();
        break;
      } catch (e) {
        // Another process may take the port between our probe and the bind.
        if (attempt >= 3) throw e;
      }
    }
  } catch (e) {
    await halt('immediate').catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
    live.delete(dataDir);
    throw e;
  }

  return {
    url: `postgres://${USER}:${password}@127.0.0.1:${port}/postgres`,
    port,
    password,
    dataDir,
    stop: async () => {
      try {
        await halt('fast');
      } finally {
        await rm(dir, { recursive: true, force: true });
        live.delete(dataDir);
      }
    },
    restart: async () => {
      await halt('fast');
      await start();
    },
    kill: () => halt('immediate'),
  };
}

export interface SharedPostgres {
  url: string;
  port: number;
  password: string;
}

let shared: Promise<SharedPostgres> | undefined;

/**
 * The cluster shared by this test process (or by the whole run when WHARF_TEST_POSTGRES
 * describes one), started on first use and stopped when the process ends.
 */
export function testPostgres(): Promise<SharedPostgres> {
  const given = process.env.WHARF_TEST_POSTGRES;
  if (given) return Promise.resolve(JSON.parse(given) as SharedPostgres);
  shared ??= (async () => {
    const child = spawn(process.execPath, [new URL(import.meta.url).pathname, 'serve'], { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = createInterface({ input: child.stdout });
    const [line] = (await once(lines, 'line')) as [string];
    lines.close();
    // Neither the child nor its pipes keep this process alive; its exit closes the pipe.
    child.unref();
    for (const s of [child.stdin, child.stdout]) (s as unknown as { unref?: () => void }).unref?.();
    const started = JSON.parse(line) as { ok?: SharedPostgres; error?: string };
    if (!started.ok) throw new Error(`could not start PostgreSQL: ${started.error ?? line}`);
    return started.ok;
  })();
  return shared;
}

let databases = 0;

/** An empty database in the shared cluster, for one test: its URL (with the password). */
export async function freshDatabase(): Promise<string> {
  const { url } = await testPostgres();
  const name = `t${process.pid}_${++databases}_${randomBytes(3).toString('hex')}`;
  // A short-lived connection: an open socket would keep the test process alive.
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

async function serve(): Promise<void> {
  let pgc: TestPostgres | undefined;
  try {
    pgc = await startPostgres();
    process.stdout.write(`${JSON.stringify({ ok: { url: pgc.url, port: pgc.port, password: pgc.password } })}\n`);
  } catch (e) {
    process.stdout.write(`${JSON.stringify({ error: e instanceof Error ? e.message : String(e) })}\n`);
    process.exit(0);
  }
  const cluster = pgc;
  let stopping: Promise<void> | undefined;
  const done = (): void => {
    stopping ??= cluster.stop().finally(() => process.exit(0));
  };
  process.stdin.resume();
  process.stdin.on('end', done);
  process.on('SIGTERM', done);
  process.on('SIGINT', done);
}

if (process.argv[2] === 'serve' && process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await serve();
}
