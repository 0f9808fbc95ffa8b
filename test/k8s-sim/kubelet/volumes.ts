// A pod's volumes as host directories bind-mounted into its containers: emptyDir (mode 0777, as
// the kubelet makes it, shared by all the pod's containers), secret and projected/downwardAPI
// files, and each container's termination-message file. Everything lives under one directory
// per pod, removed with the pod.
import { chmod, chown, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, normalize } from 'node:path';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IKeyToPath } from 'kubernetes-models/v1/KeyToPath';
import type { Pod } from '../types.js';
import { secretValues, type GetSecret } from './env.js';

export class MountError extends Error {
  override readonly name = 'MountError';
}

export interface DockerMount {
  Type: 'bind';
  Source: string;
  Target: string;
  ReadOnly: boolean;
}

const SERVICE_ACCOUNT_TOKEN = 'k8s-sim-service-account-token';
const MAX_TERMINATION_MESSAGE = 4096;

export class PodVolumes {
  private readonly readOnly = new Set<string>();

  constructor(private readonly dir: string, private readonly pod: Pod, private readonly getSecret: GetSecret) {}

  /** Makes every volume; a MountError leaves the pod ContainerCreating until a retry succeeds. */
  async setUp(): Promise<void> {
    const ns = this.pod.metadata?.namespace ?? 'default';
    const fsGroup = this.pod.spec?.securityContext?.fsGroup;
    for (const v of this.pod.spec?.volumes ?? []) {
      const path = this.volumeDir(v.name);
      await rm(path, { recursive: true, force: true });
      await mkdir(path, { recursive: true });
      const fail = (why: string): MountError => new MountError(`MountVolume.SetUp failed for volume "${v.name}" : ${why}`);
      const files = new Map<string, { data: Buffer; mode: number }>();
      const addKeys = (values: Map<string, Buffer>, items: IKeyToPath[] | undefined, mode: number): void => {
        if (!items) for (const [k, data] of values) files.set(k, { data, mode });
        for (const it of items ?? []) {
          const data = values.get(it.key);
          if (!data) throw fail(`references non-existent secret key: ${it.key}`);
          files.set(it.path, { data, mode: it.mode ?? mode });
        }
      };
      if (v.secret) {
        const name = v.secret.secretName ?? '';
        const s = this.getSecret(ns, name);
        if (!s && !v.secret.optional) throw fail(`secret "${name}" not found`);
        if (s) addKeys(secretValues(s), v.secret.items, v.secret.defaultMode ?? 0o644);
        this.readOnly.add(v.name);
      } else if (v.projected) {
        const mode = v.projected.defaultMode ?? 0o644;
        for (const src of v.projected.sources ?? []) {
          if (src.secret) {
            const s = this.getSecret(ns, src.secret.name ?? '');
            if (!s && !src.secret.optional) throw fail(`secret "${src.secret.name ?? ''}" not found`);
            if (s) addKeys(secretValues(s), src.secret.items, mode);
          } else if (src.serviceAccountToken) {
            // No token issuer here: a placeholder, so a pod that mounts one still starts.
            files.set(src.serviceAccountToken.path, { data: Buffer.from(SERVICE_ACCOUNT_TOKEN), mode });
          } else if (src.downwardAPI) {
            for (const it of src.downwardAPI.items ?? []) files.set(it.path, { data: Buffer.from(this.field(it.fieldRef?.fieldPath)), mode: it.mode ?? mode });
          }
        }
        this.readOnly.add(v.name);
      } else if (v.downwardAPI) {
        for (const it of v.downwardAPI.items ?? []) files.set(it.path, { data: Buffer.from(this.field(it.fieldRef?.fieldPath)), mode: it.mode ?? v.downwardAPI.defaultMode ?? 0o644 });
        this.readOnly.add(v.name);
      }
      // emptyDir, and any other kind, is an empty directory everyone may write.
      await chmod(path, files.size > 0 || this.readOnly.has(v.name) ? 0o755 : 0o777);
      if (fsGroup !== undefined && !this.readOnly.has(v.name)) {
        await chown(path, 0, fsGroup);
        await chmod(path, 0o2777);
      }
      for (const [rel, f] of files) {
        const file = this.inside(path, rel);
        await mkdir(dirname(file), { recursive: true });
        await writeFile(file, f.data);
        // With an fsGroup the kubelet gives the group read access to what it wrote.
        if (fsGroup !== undefined) await chown(file, 0, fsGroup);
        await chmod(file, fsGroup !== undefined ? f.mode | 0o440 : f.mode);
      }
    }
  }

  /** The bind mounts of one container: its volumeMounts and its termination-message file. */
  async mounts(c: IContainer): Promise<DockerMount[]> {
    const out: DockerMount[] = [];
    const names = new Set((this.pod.spec?.volumes ?? []).map((v) => v.name));
    for (const m of c.volumeMounts ?? []) {
      if (!names.has(m.name)) throw new MountError(`volume "${m.name}" of container "${c.name}" is not among the pod's volumes`);
      let source = this.volumeDir(m.name);
      if (m.subPath) {
        source = this.inside(source, m.subPath);
        await mkdir(source, { recursive: true });
      }
      out.push({ Type: 'bind', Source: source, Target: m.mountPath, ReadOnly: Boolean(m.readOnly) || this.readOnly.has(m.name) });
    }
    const log = this.terminationLog(c.name);
    await mkdir(dirname(log), { recursive: true });
    await writeFile(log, '');
    await chmod(log, 0o666);
    out.push({ Type: 'bind', Source: log, Target: c.terminationMessagePath ?? '/dev/termination-log', ReadOnly: false });
    return out;
  }

  /** What the container wrote to its termination-message path (at most 4096 bytes). */
  async terminationMessage(container: string): Promise<string> {
    const data = await readFile(this.terminationLog(container)).catch(() => Buffer.alloc(0));
    return data.subarray(0, MAX_TERMINATION_MESSAGE).toString('utf8');
  }

  async tearDown(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }

  private volumeDir(name: string): string {
    return join(this.dir, 'volumes', name);
  }

  private terminationLog(container: string): string {
    return join(this.dir, 'containers', container, 'termination-log');
  }

  private inside(base: string, rel: string): string {
    const p = normalize(join(base, rel));
    if (!p.startsWith(`${base}/`)) throw new MountError(`path ${JSON.stringify(rel)} leaves its volume`);
    return p;
  }

  private field(path: string | undefined): string {
    const md = this.pod.metadata;
    switch (path) {
      case 'metadata.name': return md?.name ?? '';
      case 'metadata.namespace': return md?.namespace ?? '';
      case 'metadata.uid': return md?.uid ?? '';
      case 'metadata.labels': return Object.entries(md?.labels ?? {}).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join('\n');
      case 'metadata.annotations': return Object.entries(md?.annotations ?? {}).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join('\n');
      default: return '';
    }
  }
}
