// How the CLI shows things. Shared by both modes (server and in-process), so their output is
// the same by construction.
import { describeOutcome } from '../core/states.js';
import type { ErrorDetail, JobSummary, JobView, LogEntry, WharfEvent } from '../spec/api.js';
import type { WorkerView } from '../spec/workers-api.js';

export interface Out {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

export const processOut: Out = {
  stdout: (s) => { process.stdout.write(s); },
  stderr: (s) => { process.stderr.write(s); },
};

export function formatErrors(details: readonly ErrorDetail[]): string {
  return details.map((d) => `  ${d.path || '(file)'}: ${d.message}\n`).join('');
}

function time(ms: number | null): string {
  return ms === null ? '-' : new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

export function formatJobTable(jobs: readonly JobSummary[]): string {
  const rows = [['ID', 'NAME', 'STATE', 'TASKS', 'CREATED']];
  for (const j of jobs) {
    const counts = Object.entries(j.taskCounts).filter(([, n]) => n > 0).map(([s, n]) => `${n} ${s}`).join(', ');
    rows.push([j.id, j.name, j.cancelRequested && j.state === 'running' ? 'canceling' : j.state, counts, time(j.createdAt)]);
  }
  return table(rows);
}

export function formatJob(job: JobView): string {
  let s = `job ${job.id} (${job.name}): ${job.state}${job.cancelRequested && job.state === 'running' ? ' (canceling)' : ''}\n`;
  const labels = Object.entries(job.labels).map(([k, v]) => `${k}=${v}`).join(', ');
  if (labels) s += `labels: ${labels}\n`;
  s += `created ${time(job.createdAt)}${job.endedAt !== null ? `, ended ${time(job.endedAt)}` : ''}\n`;
  const rows = [['TASK', 'STATE', 'ATTEMPT', 'BACKEND', 'RESULT']];
  for (const t of job.tasks) {
    if (t.attempts.length === 0) rows.push([t.name, t.state, '-', t.backend, t.needs.length ? `needs ${t.needs.join(', ')}` : '']);
    for (const a of t.attempts) {
      rows.push([a === t.attempts[0] ? t.name : '', a === t.attempts[t.attempts.length - 1] ? t.state : '',
        String(a.number), a.backend, a.outcome ? describeOutcome(a.outcome) : a.state]);
    }
  }
  s += table(rows);
  for (const t of job.tasks) if (t.waiting) s += `${t.name}: waiting: ${t.waiting}\n`;
  return s;
}

export function formatWorkerTable(workers: readonly WorkerView[], now: number): string {
  const rows = [['ID', 'HOST', 'PID', 'BACKENDS', 'RUNNING', 'STATE', 'LAST SEEN', 'LABELS']];
  for (const w of workers) {
    rows.push([w.id, w.host, String(w.pid), w.backends.join(','), `${w.running}/${w.capacity}`, w.live ? 'live' : 'gone',
      ago(now - w.lastSeenAt), Object.entries(w.labels).map(([k, v]) => `${k}=${v}`).join(',')]);
  }
  return table(rows);
}

function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return s < 120 ? `${s}s ago` : s < 7200 ? `${Math.round(s / 60)}m ago` : `${Math.round(s / 3600)}h ago`;
}

export function formatEvent(e: WharfEvent): string | undefined {
  switch (e.type) {
    case 'job_state': return `job ${e.jobId}: ${e.to}`;
    case 'task_state': return e.to === 'running' ? undefined : `${e.task}: ${e.to}`;
    case 'attempt':
      if (e.state === 'running') return `${e.task}: attempt ${e.attempt} running`;
      if (e.state === 'ended' && e.outcome) return `${e.task}: attempt ${e.attempt} ${describeOutcome(e.outcome)}`;
      return undefined;
  }
}

/**
 * Prints log entries line by line with a task prefix. Lines are rejoined per task and stream
 * because a stored chunk may end mid-line; a last line without a newline is printed at flush.
 */
export class PrefixedLogPrinter {
  private readonly partial = new Map<string, string>();
  private readonly width: number;

  constructor(private readonly out: Out, taskNames: readonly string[]) {
    this.width = Math.max(0, ...taskNames.map((n) => n.length));
  }

  write(e: LogEntry): void {
    const key = `${e.task}\u0000${e.stream}`;
    const text = (this.partial.get(key) ?? '') + e.text;
    const lines = text.split('\n');
    this.partial.set(key, lines.pop() ?? '');
    for (const line of lines) this.emit(e.task, e.stream, line);
  }

  flush(): void {
    for (const [key, rest] of this.partial) {
      if (rest === '') continue;
      const [task = '', stream = 'stdout'] = key.split('\u0000');
      this.emit(task, stream, rest);
    }
    this.partial.clear();
  }

  private emit(task: string, stream: string, line: string): void {
    const s = `${task.padEnd(this.width)} | ${line}\n`;
    if (stream === 'stdout') this.out.stdout(s);
    else this.out.stderr(s);
  }
}

/** Writes entries as they were produced: stdout to stdout, everything else to stderr. */
export function rawLog(out: Out, e: LogEntry): void {
  if (e.stream === 'stdout') out.stdout(e.text);
  else out.stderr(e.text);
}

export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => { widths[i] = Math.max(widths[i] ?? 0, c.length); });
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd()).join('\n') + '\n';
}
