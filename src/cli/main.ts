#!/usr/bin/env node
// The `wharf` command. Each command lives in its own module, imported only when it runs, so
// start-up stays lean (`wharf run -- true` must cost little more than spawning `true`).
import { Command, Option } from 'commander';
import { JOB_STATES } from '../core/states.js';

const program = new Command('wharf')
  .description('Run tasks in containers — on this host, on a Docker engine, or on Kubernetes.')
  .version('0.1.0')
  .showHelpAfterError();

const collect = (v: string, prev: string[]): string[] => [...prev, v];

/** Where the store is (serve, worker). */
function dbOptions(c: Command): Command {
  return c
    .option('--db <path|url>', 'SQLite file (default $WHARF_HOME/wharf.db) or postgres://… URL; prefer WHARF_DB or --db-file for URLs with a password [WHARF_DB]')
    .option('--db-file <file>', 'read the --db value from this file (keeps a password out of `ps`)');
}

/** How a worker runs attempts and shuts down (serve's embedded worker, `wharf worker`). */
function workerOptions(c: Command, which: string): Command {
  return c
    .option('--concurrency <n>', `attempts run at once by ${which} (default 8)`)
    .option('--lease <duration>', 'lease of a claimed attempt, renewed by heartbeats', '15s')
    .option('--grace <duration>', 'time between SIGTERM and SIGKILL when stopping an attempt', '10s')
    .option('--drain-timeout <duration>', 'on SIGTERM, how long running attempts may finish', '30s')
    .option('--log-cap <bytes>', 'stored log size per attempt (default 64Mi)')
    .option('--heartbeat <duration>', 'how often workers tell the registry they are alive; live = heard from within 3 of these (default 5s) [WHARF_HEARTBEAT]')
    .option('--log-level <level>', 'debug, info, warn or error (JSON lines on stderr) [WHARF_LOG_LEVEL]');
}

/** The docker and kubernetes backends and the image builder (serve, worker). */
function containerFlags(c: Command): Command {
  return c
    .option('--docker-host <url>', 'Docker engine, unix:///… or tcp://… [DOCKER_HOST]')
    .addOption(new Option('--docker <mode>', 'docker backend: auto (when the engine answers), on, off [WHARF_DOCKER]').choices(['auto', 'on', 'off']))
    .addOption(new Option('--builder <builder>', 'image builder for tasks with a build [WHARF_BUILDER]').choices(['docker', 'buildah', 'kaniko', 'none']))
    .option('--registry-push <prefix>', 'where built images are pushed, e.g. localhost:5000/wharf [WHARF_REGISTRY_PUSH]')
    .option('--registry-pull <prefix>', 'the same registry as containers name it, if different [WHARF_REGISTRY_PULL]')
    .option('--registry-insecure <host>', 'registry reached over plain http (repeatable; loopback always is)', collect, [])
    .option('--docker-config <file>', 'registry credentials (default ~/.docker/config.json) [WHARF_DOCKER_CONFIG]')
    .addOption(new Option('--kubernetes <mode>', 'kubernetes backend: auto (in a pod, or with --kubeconfig), on, off [WHARF_KUBERNETES]').choices(['auto', 'on', 'off']))
    .option('--kubeconfig <file>', 'the cluster to run pods in (never a default one) [WHARF_KUBECONFIG]')
    .option('--kube-context <name>', 'context of the kubeconfig [WHARF_KUBE_CONTEXT]')
    .option('--namespace <ns>', 'namespace of the pods (default "default") [WHARF_NAMESPACE]')
    .option('--pod-template <file>', 'YAML merged into every pod (see docs/kubernetes.md) [WHARF_POD_TEMPLATE]')
    .option('--pull-secret <name>', 'an existing dockerconfigjson secret for every pod [WHARF_PULL_SECRET]')
    .option('--manage-pull-secrets', 'make a pull secret per pod from the registry credentials')
    .option('--pending-timeout <duration>', 'a pod pending this long (unschedulable, image not pulled) ends start_failed', '5m')
    .option('--docker-sidecar-image <image>', 'the rootless Docker image of the docker feature (default docker:28-dind-rootless)')
    .option('--kata-runtime-class <name>', 'the RuntimeClass of the kata feature (default kata-qemu)')
    .option('--kaniko-image <image>', 'the Kaniko executor image (default ghcr.io/osscontainertools/kaniko:v1.28.3)')
    .option('--kaniko-cache-repo <repo>', 'a layer cache repository for Kaniko (--cache=true)')
    .option('--kaniko-flag <flag>', 'an extra executor flag, e.g. --snapshot-mode=redo (repeatable)', collect, []);
}

const serve = program.command('serve')
  .description('start the API server with an embedded worker (127.0.0.1:5255)')
  .option('--host <host>', 'address to listen on', '127.0.0.1')
  .option('--port <port>', 'port to listen on', '5255');
dbOptions(serve);
workerOptions(serve, 'the embedded worker');
serve
  .option('--policy <file>', 'what tasks may ask for (YAML; default: non-privileged only) [WHARF_POLICY]')
  .option('--no-worker', 'serve the API only; workers run as `wharf worker`')
  .option('--require-auth', 'credentials on every /api route even on loopback (always on other addresses)')
  .option('--oidc-issuer <url>', 'accept OIDC JWTs from this issuer too [WHARF_OIDC_ISSUER]')
  .option('--oidc-audience <aud>', 'their audience (repeatable) [WHARF_OIDC_AUDIENCE]', collect, [])
  .option('--oidc-jwks-url <url>', 'where the issuer\'s keys are [WHARF_OIDC_JWKS_URL]');
containerFlags(serve)
  .action(async (o) => exit((await import('./commands/serve.js')).serve(o)));

const worker = program.command('worker')
  .description('run a standalone worker (no HTTP) on the same database as `wharf serve --no-worker`')
  .option('--backend <backend>', 'claim attempts of this backend only: local, docker or kubernetes (repeatable; default every backend this process has)', collect, [])
  .option('--label <KEY=VALUE>', 'shown with the worker in `wharf workers` (repeatable)', collect, []);
dbOptions(worker);
workerOptions(worker, 'this worker');
containerFlags(worker)
  .action(async (o) => exit((await import('./commands/worker.js')).worker(o)));

program.command('workers')
  .description('list the registered workers: host, backends, load, and whether each is live')
  .option('--json', 'print JSON')
  .action(async (o) => exit((await import('./commands/worker.js')).workers(o)));

program.command('run')
  .description('run one command as a task, stream its output, exit with its exit code')
  .argument('<command...>', 'program and arguments (after --)')
  .option('--backend <backend>', 'local, docker or kubernetes')
  .option('--image <image>', 'container image (docker, kubernetes)')
  .option('-e, --env <KEY=VALUE>', 'environment variable (repeatable)', collect, [])
  .option('--timeout <duration>', 'wall-clock limit, e.g. 30s')
  .option('--name <name>', 'job name')
  .action(async (command: string[], o) => exit((await import('./commands/run.js')).run(command, o)));

program.command('submit')
  .description('submit a job file (YAML or JSON; - reads stdin)')
  .argument('<file>', 'job file or -')
  .option('-f, --follow', 'show state changes and logs until the job ends; exit 0/1/130')
  .option('--json', 'print the created job as JSON')
  .option('--idempotency-key <key>', 'submit at most once under this key: a repeat gives the same job (safe retries)')
  .action(async (file: string, o) => exit((await import('./commands/submit.js')).submit(file, o)));

program.command('jobs')
  .description('list jobs, newest first')
  .addOption(new Option('--state <state>', 'only jobs in this state').choices(JOB_STATES))
  .option('-l, --label <KEY=VALUE>', 'only jobs with this label (repeatable)', collect, [])
  .option('--limit <n>', 'at most this many', '50')
  .option('--cursor <cursor>', 'continue a previous listing')
  .option('--json', 'print JSON')
  .action(async (o) => exit((await import('./commands/jobs.js')).jobs(o)));

program.command('job')
  .description('show one job with its tasks and attempts')
  .argument('<id>')
  .option('--json', 'print JSON')
  .action(async (id: string, o) => exit((await import('./commands/jobs.js')).job(id, o)));

program.command('logs')
  .description("print a job's logs (one task's with TASK)")
  .argument('<id>')
  .argument('[task]')
  .option('-f, --follow', 'keep printing until the job (or task) ends')
  .option('--attempt <n>', 'only this attempt')
  .action(async (id: string, task: string | undefined, o) => exit((await import('./commands/logs.js')).logs(id, task, o)));

program.command('cancel')
  .description('cancel a job: queued tasks never start, running ones are stopped')
  .argument('<id>')
  .action(async (id: string) => exit((await import('./commands/jobs.js')).cancel(id)));

program.command('retry')
  .description('run the failed and canceled tasks of an ended job again')
  .argument('<id>')
  .action(async (id: string) => exit((await import('./commands/jobs.js')).retry(id)));

program.command('validate')
  .description('check a job file; lists every error (exit 0 valid, 1 invalid)')
  .argument('<file>', 'job file or -')
  .action(async (file: string) => exit((await import('./commands/validate.js')).validate(file)));

const k8s = program.command('k8s').description('Kubernetes: the manifests a worker needs, and a check of its permissions');
k8s.command('manifests')
  .description('print the ServiceAccount, Role (minimal rules, no wildcards), RoleBinding and Deployment')
  .option('-n, --namespace <ns>', 'namespace of the worker and its pods', 'default')
  .option('--image <image>', "Wharf's image (default wharf:<version>)")
  .option('--builds', 'Kaniko builds in the cluster (pods/attach)')
  .option('--workloads', 'workloads with exec (pods/exec)')
  .option('--secrets', 'Wharf makes Secrets: pull secrets, Kaniko credentials, tasks\' secrets (secrets create/get/delete)')
  .option('--pull-secrets', 'the same as --secrets')
  .action(async (o) => exit((await import('./commands/k8s.js')).printManifests(o)));
k8s.command('check')
  .description('ask the cluster whether this identity may do what a worker does; names what is missing (exit 1)')
  .option('-n, --namespace <ns>', 'namespace of the pods', 'default')
  .option('--kubeconfig <file>', 'kubeconfig (default: in-cluster) [WHARF_KUBECONFIG]')
  .option('--kube-context <name>', 'context of the kubeconfig [WHARF_KUBE_CONTEXT]')
  .option('--builds', 'also what Kaniko builds need')
  .option('--workloads', 'also what workloads need')
  .option('--secrets', 'also what Secrets (pull secrets, Kaniko credentials, tasks\' secrets) need')
  .option('--pull-secrets', 'the same as --secrets')
  .action(async (o) => exit((await import('./commands/k8s.js')).check(o)));

const token = program.command('token').description('API tokens: who may use the API (admin)');
token.command('create')
  .description('make a token; it is printed once (Wharf keeps only its hash)')
  .requiredOption('--scope <scopes>', 'read, submit, cancel, admin (comma-separated or repeated)', collect, [])
  .option('--name <name>', 'what it is for')
  .option('--expires <when>', 'a duration (12h, 30d, 4w) or a date; default never')
  .option('--json', 'print JSON')
  .action(async (o) => exit((await import('./commands/admin.js')).tokenCreate(o)));
token.command('list').description('tokens, newest first; never their secrets').option('--json', 'print JSON')
  .action(async (o) => exit((await import('./commands/admin.js')).tokenList(o)));
token.command('revoke').description('refuse a token from now on').argument('<id>')
  .action(async (id: string) => exit((await import('./commands/admin.js')).tokenRevoke(id)));

const secret = program.command('secret').description('secrets for tasks (stored encrypted; masked in logs)');
secret.command('set').description('create or replace a secret; its value is read from stdin, never the command line').argument('<name>')
  .action(async (name: string) => exit((await import('./commands/admin.js')).secretSet(name)));
secret.command('list').description('secret names (never values)').option('--json', 'print JSON')
  .action(async (o) => exit((await import('./commands/admin.js')).secretList(o)));
secret.command('rm').description('delete a secret').argument('<name>')
  .action(async (name: string) => exit((await import('./commands/admin.js')).secretRm(name)));

program.command('audit')
  .description('who submitted, canceled, retried, made tokens or secrets, and when (admin)')
  .option('--after <id>', 'entries after this id')
  .option('--limit <n>', 'at most this many (default 100)')
  .option('--json', 'print JSON')
  .action(async (o) => exit((await import('./commands/admin.js')).audit(o)));

program.command('schema')
  .description('print the JSON Schema of job files')
  .action(async () => exit((await import('./commands/validate.js')).schema()));

async function exit(code: Promise<number>): Promise<void> {
  process.exitCode = await code;
}

program.parseAsync(process.argv).catch(async (e: unknown) => {
  const { reportError } = await import('./errors.js');
  process.exitCode = reportError(e);
});
