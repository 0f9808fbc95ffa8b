// Run by test/run.mjs: starts the shared dockerd and busybox image, prints one JSON line
// (`{"ok":…}` or `{"error":…}`), and stops everything when its stdin closes.
import { importBusybox } from './busybox.js';
import { startDockerd, type Dockerd } from './dockerd.js';

let d: Dockerd | undefined;
try {
  d = await startDockerd();
  const busybox = await importBusybox(d.socketPath);
  process.stdout.write(`${JSON.stringify({ ok: { host: d.host, socketPath: d.socketPath, busybox } })}\n`);
} catch (e) {
  process.stdout.write(`${JSON.stringify({ error: e instanceof Error ? e.message : String(e) })}\n`);
  await d?.stop();
  process.exit(0);
}
process.stdin.resume();
const done = async (): Promise<void> => { await d?.stop(); process.exit(0); };
process.stdin.on('end', () => void done());
process.on('SIGTERM', () => void done());
process.on('SIGINT', () => void done());
