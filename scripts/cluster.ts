// A local, real Kubernetes API server (etcd + kube-apiserver, no kubelet) for development and demos.
//
//   node scripts/cluster.ts up [--seed]   build on first use, start in the background, install the
//                                         CRDs (and sample data with --seed); the last line printed
//                                         is KUBECONFIG=<path>
//   node scripts/cluster.ts seed          (re)write the sample data into the running cluster
//                                         (with restic built: a real local repository behind
//                                         media/plex with a stale, an orphaned and a live lock)
//   node scripts/cluster.ts status        print whether it runs, and where
//   node scripts/cluster.ts down          stop it and remove its state
//
// `up` starts a detached supervisor (this script with the internal verb `serve`) that owns etcd
// and kube-apiserver; they die with it, so `down` only has to stop the supervisor.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, closeSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureKubeBinaries } from '../test/harness/kube/build-binaries.ts';
import { devClusterDir } from '../test/harness/kube/cache-dir.ts';
import { kubeRequest } from '../test/harness/kube/kube-http.ts';
import { processAlive, processMatches } from '../test/harness/kube/process-alive.ts';
import { readKubeconfig } from '../test/harness/kube/kubeconfig.ts';
import { seedSampleData, type SampleResticOptions } from '../test/harness/kube/sample-data.ts';
import { resticBinary } from '../test/harness/restic.ts';
import { listLocks, type ResticTarget } from '../src/restic/index.ts';
import { startKube } from '../test/harness/kube/start-kube.ts';

interface ClusterState {
  supervisorPid: number;
  etcdPid: number;
  apiserverPid: number;
  server: string;
  kubeconfigPath: string;
  startedAt: string;
}

const stateDir = devClusterDir();
const stateFile = join(stateDir, 'state.json');
const pidFile = join(stateDir, 'supervisor.pid');
const logFile = join(stateDir, 'supervisor.log');
const dataDir = join(stateDir, 'data');
// The sample restic repository, and the request for a lock-holding restic the supervisor keeps alive.
const resticDir = join(stateDir, 'restic');
const liveLockRequest = join(stateDir, 'restic-live-lock.json');

const info = (line: string): void => {
  process.stderr.write(`[cluster] ${line}\n`);
};
const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const alive = processAlive;

async function readState(): Promise<ClusterState | undefined> {
  try {
    return JSON.parse(await readFile(stateFile, 'utf8')) as ClusterState;
  } catch {
    return undefined;
  }
}

async function isHealthy(state: ClusterState): Promise<boolean> {
  if (![state.supervisorPid, state.etcdPid, state.apiserverPid].every(alive)) return false;
  try {
    const kc = await readKubeconfig(state.kubeconfigPath);
    const res = await kubeRequest({ server: kc.server, token: kc.token, ca: kc.caPem }, 'GET', '/readyz');
    return res.status === 200;
  } catch {
    return false;
  }
}

function logTail(lines = 25): string {
  try {
    return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

async function up(seed: boolean): Promise<void> {
  const existing = await readState();
  if (existing && (await isHealthy(existing))) {
    info(`already running at ${existing.server} (supervisor pid ${existing.supervisorPid})`);
  } else {
    if (existing) {
      info('found a stale cluster state; cleaning it up');
      await down(true);
    }
    // Build in the foreground so progress shows up here, not in the supervisor's log.
    await ensureKubeBinaries({ log: info });
    await rm(stateDir, { recursive: true, force: true });
    await mkdir(stateDir, { recursive: true });
    const out = openSync(logFile, 'a');
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), 'serve'], {
      detached: true,
      stdio: ['ignore', out, out],
    });
    closeSync(out);
    child.unref();
    info(`starting etcd and kube-apiserver (supervisor pid ${child.pid}, log ${logFile})`);
    const deadline = Date.now() + 180_000;
    for (;;) {
      const state = await readState();
      if (state) break;
      if (child.exitCode !== null || (child.pid !== undefined && !alive(child.pid))) {
        throw new Error(`the cluster failed to start; last lines of ${logFile}:\n${logTail()}`);
      }
      if (Date.now() > deadline) throw new Error(`the cluster did not come up within 180s; see ${logFile}`);
      await delay(300);
    }
  }
  const state = await readState();
  if (!state) throw new Error(`cluster state vanished from ${stateFile}; run down and up again`);
  if (seed) await seedInto(state);
  process.stdout.write(`KUBECONFIG=${state.kubeconfigPath}\n`);
}

async function seedInto(state: ClusterState): Promise<void> {
  const bin = resticBinary();
  if (!bin) info('restic is not built, so media/plex gets no real repository (run `bash test/harness/setup/restic.sh`, then seed again)');
  const summary = await seedSampleData(state.kubeconfigPath, new Date(), bin ? { restic: sampleRestic() } : {});
  info(`sample data: ${summary.replicationSources.length} ReplicationSources in ${summary.namespaces.length} namespaces`);
  if (bin) {
    info(`media/plex has a real restic repository with a stale, an orphaned and a live lock; the bot needs restic: RESTIC_BIN=${bin}`);
  }
}

interface LiveLockRequest {
  repository: string;
  passwordFile: string;
  hostname: string;
}

/** The seeding side: the repository lives in the state dir; the supervisor holds the live lock. */
function sampleRestic(): SampleResticOptions {
  return {
    dir: resticDir,
    async keepLiveLock(target: ResticTarget, hostname: string): Promise<void> {
      const request: LiveLockRequest = { repository: target.repository, passwordFile: join(resticDir, 'media-plex.password'), hostname };
      await writeFile(liveLockRequest, `${JSON.stringify(request, null, 2)}\n`, { mode: 0o600 });
      const bin = resticBinary()!;
      const deadline = Date.now() + 60_000;
      for (;;) {
        const locks = await listLocks(target, { bin }).catch(() => []);
        if (locks.some((l) => l.hostname === hostname)) return;
        if (Date.now() > deadline) throw new Error(`the cluster supervisor did not start the lock-holding restic within 60 s; see ${logFile}`);
        await delay(500);
      }
    },
  };
}

const execFileAsync = (cmd: string, args: string[]): Promise<void> =>
  new Promise((resolve, reject) => execFile(cmd, args, (err) => (err ? reject(err) : resolve())));

/**
 * The supervisor's side: a restic that holds a lock as host `hostname` until the cluster stops.
 * `restic backup --stdin` on a stdin that never ends, in its own UTS namespace (unshare keeps it
 * open, nsenter sets the name and runs restic without forking); setpriv --pdeathsig ties both to
 * this supervisor, so they die with it even when it is SIGKILLed.
 */
class LiveLockHolder {
  #keeper: ChildProcess | undefined;
  #restic: ChildProcess | undefined;
  #startedAt = 0;
  #starting = false;

  async tick(): Promise<void> {
    if (this.#starting || !existsSync(liveLockRequest)) return;
    if (this.#restic && this.#restic.exitCode === null && this.#restic.signalCode === null) return;
    // A holder that died quickly is not restarted in a tight loop.
    if (Date.now() - this.#startedAt < 10_000) return;
    this.#starting = true;
    try {
      await this.#start(JSON.parse(await readFile(liveLockRequest, 'utf8')) as LiveLockRequest);
    } catch (err) {
      process.stdout.write(`${new Date().toISOString()} live restic lock: ${(err as Error).message}\n`);
      this.stop();
    } finally {
      this.#starting = false;
    }
  }

  async #start(req: LiveLockRequest): Promise<void> {
    this.stop();
    this.#startedAt = Date.now();
    const bin = resticBinary();
    if (!bin) throw new Error('restic is not built');
    const tie = (args: string[]): [string, string[]] => (existsSync('/usr/bin/setpriv') ? ['/usr/bin/setpriv', ['--pdeathsig', 'SIGKILL', '--', ...args]] : [args[0]!, args.slice(1)]);
    const [kcmd, kargs] = tie(['unshare', '--uts', 'sleep', 'infinity']);
    this.#keeper = spawn(kcmd, kargs, { stdio: 'ignore' });
    const mine = readlinkSync('/proc/self/ns/uts');
    const uts = `/proc/${this.#keeper.pid}/ns/uts`;
    const deadline = Date.now() + 5000;
    while (readlinkOr(uts) === mine || readlinkOr(uts) === undefined) {
      if (this.#keeper.exitCode !== null || Date.now() > deadline) throw new Error('unshare --uts did not start (the live lock needs root)');
      await delay(20);
    }
    await execFileAsync('nsenter', [`--uts=${uts}`, 'hostname', req.hostname]);
    const home = join(resticDir, 'holder-home');
    await mkdir(home, { recursive: true, mode: 0o700 });
    const [rcmd, rargs] = tie(['nsenter', `--uts=${uts}`, bin, 'backup', '--stdin', '--stdin-filename', 'restic-shell-session.bin', '--host', req.hostname]);
    const out = openSync(logFile, 'a');
    this.#restic = spawn(rcmd, rargs, {
      env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: home, RESTIC_CACHE_DIR: join(home, 'cache'), RESTIC_REPOSITORY: req.repository, RESTIC_PASSWORD_FILE: req.passwordFile },
      // stdin stays open and empty: restic waits on it, holding (and refreshing) its lock.
      stdio: ['pipe', 'ignore', out],
    });
    closeSync(out);
    process.stdout.write(`${new Date().toISOString()} live restic lock: restic pid ${this.#restic.pid} holds a lock as host ${req.hostname}\n`);
  }

  stop(): void {
    for (const p of [this.#restic, this.#keeper]) if (p && p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    this.#restic = undefined;
    this.#keeper = undefined;
  }
}

function readlinkOr(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}

async function serve(): Promise<void> {
  await mkdir(stateDir, { recursive: true });
  const kube = await startKube({ dataDir, log: (l) => process.stdout.write(`${new Date().toISOString()} ${l}\n`) });
  const liveLock = new LiveLockHolder();
  let stopping = false;
  const shutdown = async (why: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`${new Date().toISOString()} stopping (${why})\n`);
    liveLock.stop();
    await kube.stop();
    await rm(stateFile, { force: true });
    await rm(pidFile, { force: true });
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGHUP', () => void shutdown('SIGHUP'));
  await writeFile(pidFile, `${process.pid}\n`);
  const state: ClusterState = {
    supervisorPid: process.pid,
    etcdPid: kube.pids.etcd,
    apiserverPid: kube.pids.apiserver,
    server: kube.server,
    kubeconfigPath: kube.kubeconfigPath,
    startedAt: new Date().toISOString(),
  };
  // Written last: `up` treats its appearance as "ready".
  await writeFile(stateFile, `${JSON.stringify(state, null, 2)}\n`);
  process.stdout.write(`${new Date().toISOString()} ready: ${kube.server}\n`);
  // A control-plane process that dies takes the whole cluster down, so `up` restarts it cleanly.
  setInterval(() => {
    if (!alive(kube.pids.etcd) || !alive(kube.pids.apiserver)) void shutdown('a control-plane process exited');
  }, 5000);
  // `seed` asks for the sample repository's live lock by writing a request file; keep it held.
  setInterval(() => void liveLock.tick(), 1000);
}

async function down(quiet = false): Promise<void> {
  const state = await readState();
  const pid = state?.supervisorPid ?? Number((existsSync(pidFile) ? readFileSync(pidFile, 'utf8') : '').trim());
  const isSupervisor = (): boolean => processMatches(pid, 'cluster.ts');
  if (pid && isSupervisor()) {
    process.kill(pid, 'SIGTERM');
    const deadline = Date.now() + 30_000;
    while (isSupervisor() && Date.now() < deadline) await delay(200);
    // Its children carry pdeathsig, so killing the supervisor also ends etcd and the apiserver.
    if (isSupervisor()) process.kill(pid, 'SIGKILL');
  }
  for (const [p, name] of [[state?.apiserverPid, 'kube-apiserver'], [state?.etcdPid, 'etcd']] as const) {
    if (p && processMatches(p, name)) process.kill(p, 'SIGKILL');
  }
  await rm(stateDir, { recursive: true, force: true });
  if (!quiet) info(state || pid ? 'cluster stopped and its state removed' : 'no cluster was running');
}

async function status(): Promise<void> {
  const state = await readState();
  if (!state) {
    info('not running (start it with: node scripts/cluster.ts up)');
    process.exitCode = 1;
    return;
  }
  const healthy = await isHealthy(state);
  info(`${healthy ? 'running' : 'NOT healthy'}: ${state.server}, since ${state.startedAt}, supervisor pid ${state.supervisorPid}`);
  if (!healthy) process.exitCode = 1;
  process.stdout.write(`KUBECONFIG=${state.kubeconfigPath}\n`);
}

async function main(argv: string[]): Promise<void> {
  const [verb, ...rest] = argv;
  switch (verb) {
    case 'up':
      return up(rest.includes('--seed'));
    case 'down':
      return down();
    case 'status':
      return status();
    case 'seed': {
      const state = await readState();
      if (!state || !(await isHealthy(state))) throw new Error('no cluster is running; start it with: node scripts/cluster.ts up');
      await seedInto(state);
      process.stdout.write(`KUBECONFIG=${state.kubeconfigPath}\n`);
      return;
    }
    case 'serve':
      return serve();
    default:
      process.stderr.write('usage: node scripts/cluster.ts up [--seed] | seed | status | down\n');
      process.exitCode = 2;
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`[cluster] ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
