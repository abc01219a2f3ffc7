// A local, real Kubernetes API server (etcd + kube-apiserver, no kubelet) for development and demos.
//
//   node scripts/cluster.ts up [--seed]   build on first use, start in the background, install the
//                                         CRDs (and sample data with --seed); the last line printed
//                                         is KUBECONFIG=<path>
//   node scripts/cluster.ts seed          (re)write the sample data into the running cluster
//   node scripts/cluster.ts status        print whether it runs, and where
//   node scripts/cluster.ts down          stop it and remove its state
//
// `up` starts a detached supervisor (this script with the internal verb `serve`) that owns etcd
// and kube-apiserver; they die with it, so `down` only has to stop the supervisor.
import { spawn } from 'node:child_process';
import { existsSync, openSync, closeSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureKubeBinaries } from '../test/harness/kube/build-binaries.ts';
import { devClusterDir } from '../test/harness/kube/cache-dir.ts';
import { kubeRequest } from '../test/harness/kube/kube-http.ts';
import { processAlive, processMatches } from '../test/harness/kube/process-alive.ts';
import { readKubeconfig } from '../test/harness/kube/kubeconfig.ts';
import { seedSampleData } from '../test/harness/kube/sample-data.ts';
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
  const summary = await seedSampleData(state.kubeconfigPath);
  info(`sample data: ${summary.replicationSources.length} ReplicationSources in ${summary.namespaces.length} namespaces`);
}

async function serve(): Promise<void> {
  await mkdir(stateDir, { recursive: true });
  const kube = await startKube({ dataDir, log: (l) => process.stdout.write(`${new Date().toISOString()} ${l}\n`) });
  let stopping = false;
  const shutdown = async (why: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`${new Date().toISOString()} stopping (${why})\n`);
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
