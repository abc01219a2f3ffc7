// Starts a real control plane (etcd + kube-apiserver, no kubelet or controllers) the way
// controller-runtime's envtest does, on loopback with free ports, and installs the test CRDs.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureKubeBinaries, type KubeBinaries } from './build-binaries.ts';
import { generateCerts, type ControlPlaneCerts } from './certs.ts';
import { freePort } from './free-port.ts';
import { DEFAULT_CRD_DIR, installCrds } from './install-crds.ts';
import { kubeRequest, type KubeEndpoint } from './kube-http.ts';
import { writeKubeconfig } from './kubeconfig.ts';
import { startManaged, type ManagedProcess } from './managed-process.ts';
import { noteSecrets } from '../secrets-scan.ts';

export interface KubeHarness {
  kubeconfigPath: string;
  /** https://127.0.0.1:<port> */
  server: string;
  /** Bearer token of a system:masters user. Never log it. */
  token: string;
  caFile?: string;
  dataDir: string;
  /** Names of the CRDs installed and Established. */
  crds: string[];
  /** Pids of etcd and kube-apiserver (for supervisors that record them). */
  pids: { etcd: number; apiserver: number };
  stop(): Promise<void>;
}

export interface StartKubeOptions {
  /** Where certs, logs, etcd data and the kubeconfig go; a temp dir (removed on stop) if unset. */
  dataDir?: string;
  log?: (line: string) => void;
  /** CRD directory to install; false to install none. Defaults to test/fixtures/crds. */
  crdDir?: string | false;
  startTimeoutMs?: number;
}

export const ADMIN_USER = 'backup-bot-admin';

const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

class StartFailed extends Error {
  retryable: boolean;
  constructor(message: string, retryable: boolean) {
    super(message);
    this.retryable = retryable;
  }
}

/**
 * Starts `name` and waits until `probe` says it is ready; one that exits or is not ready in time
 * is stopped, and the StartFailed names its log.
 */
async function startReady(
  name: string,
  bin: string,
  args: string[],
  logFile: string,
  timeoutMs: number,
  probe: () => Promise<boolean>,
): Promise<ManagedProcess> {
  const proc = startManaged(name, bin, args, logFile);
  try {
    await waitFor(proc, timeoutMs, probe);
  } catch (err) {
    await proc.stop(2000);
    throw err;
  }
  return proc;
}

async function waitFor(
  proc: ManagedProcess,
  timeoutMs: number,
  probe: () => Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.hasExited()) {
      const tail = proc.logTail();
      // A port grabbed between freePort() and bind is worth another try with new ports.
      throw new StartFailed(`${proc.name} exited during start-up; last log lines (${proc.logFile}):\n${tail}`, /address already in use/i.test(tail));
    }
    if (await probe().catch(() => false)) return;
    await delay(200);
  }
  throw new StartFailed(`${proc.name} was not ready after ${Math.round(timeoutMs / 1000)}s; see ${proc.logFile}:\n${proc.logTail()}`, false);
}

async function startEtcd(bin: string, dataDir: string, timeoutMs: number): Promise<{ proc: ManagedProcess; url: string }> {
  const clientPort = await freePort();
  const peerPort = await freePort();
  const url = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const etcdDir = join(dataDir, 'etcd');
  // State is per run: a data dir from an earlier run remembers other peer ports.
  await rm(etcdDir, { recursive: true, force: true });
  const proc = await startReady(
    'etcd',
    bin,
    [
      '--name=default',
      `--data-dir=${etcdDir}`,
      `--listen-client-urls=${url}`,
      `--advertise-client-urls=${url}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=default=${peer}`,
      '--initial-cluster-state=new',
      // Test data is throw-away; fsync dominates etcd latency on shared CI disks.
      '--unsafe-no-fsync=true',
      '--log-level=warn',
    ],
    join(dataDir, 'logs', 'etcd.log'),
    timeoutMs,
    async () => {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
      return res.ok && ((await res.json()) as { health?: string }).health === 'true';
    },
  );
  return { proc, url };
}

async function startApiserver(
  bin: string,
  dataDir: string,
  etcdUrl: string,
  certs: ControlPlaneCerts,
  tokenFile: string,
  ep: Omit<KubeEndpoint, 'server'>,
  timeoutMs: number,
): Promise<{ proc: ManagedProcess; server: string }> {
  const port = await freePort();
  const server = `https://127.0.0.1:${port}`;
  const proc = await startReady(
    'kube-apiserver',
    bin,
    [
      `--etcd-servers=${etcdUrl}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${port}`,
      `--cert-dir=${join(dataDir, 'pki')}`,
      `--tls-cert-file=${certs.servingCertFile}`,
      `--tls-private-key-file=${certs.servingKeyFile}`,
      `--token-auth-file=${tokenFile}`,
      '--authorization-mode=RBAC',
      `--service-account-issuer=${server}`,
      `--service-account-key-file=${certs.saPublicKeyFile}`,
      `--service-account-signing-key-file=${certs.saPrivateKeyFile}`,
      '--service-cluster-ip-range=10.0.0.0/24',
      '--allow-privileged=true',
      // No controller-manager runs: ServiceAccount admission would reject every pod for want of
      // the "default" ServiceAccount (as envtest notes), and pvc-protection finalizers would make
      // PVC deletes hang forever.
      '--disable-admission-plugins=ServiceAccount,StorageObjectInUseProtection',
      // Loopback is not a valid Endpoints address; the reconciler would only log errors.
      '--endpoint-reconciler-type=none',
      '--profiling=false',
    ],
    join(dataDir, 'logs', 'kube-apiserver.log'),
    timeoutMs,
    async () => (await kubeRequest({ ...ep, server }, 'GET', '/readyz')).status === 200,
  );
  return { proc, server };
}

async function ensureDefaultNamespace(ep: KubeEndpoint): Promise<void> {
  // The apiserver's bootstrap controller normally creates it right after /readyz turns green.
  for (let i = 0; i < 25; i++) {
    if ((await kubeRequest(ep, 'GET', '/api/v1/namespaces/default')).status === 200) return;
    await delay(200);
  }
  const res = await kubeRequest(ep, 'POST', '/api/v1/namespaces', {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: 'default' },
  });
  if (res.status !== 201 && res.status !== 409) throw new Error(`could not create namespace default: HTTP ${res.status} ${res.body}`);
}

async function withRetries<T>(attempts: number, fn: () => Promise<T>): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof StartFailed) || !err.retryable || i >= attempts) throw err;
    }
  }
}

export async function startKube(opts: StartKubeOptions = {}): Promise<KubeHarness> {
  const log = opts.log ?? (() => {});
  const timeoutMs = opts.startTimeoutMs ?? 120_000;
  const bins: KubeBinaries = await ensureKubeBinaries({ log });
  const ownsDir = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), 'backup-bot-kube-')));
  const started: ManagedProcess[] = [];
  const stopAll = async (): Promise<void> => {
    for (const p of [...started].reverse()) await p.stop();
  };
  try {
    await mkdir(join(dataDir, 'pki'), { recursive: true, mode: 0o700 });
    await mkdir(join(dataDir, 'logs'), { recursive: true });
    const certs = await generateCerts(join(dataDir, 'pki'));
    const caPem = await readFile(certs.caFile, 'utf8');
    const token = randomBytes(32).toString('hex');
    noteSecrets(token);
    const tokenFile = join(dataDir, 'pki', 'tokens.csv');
    await writeFile(tokenFile, `${token},${ADMIN_USER},${ADMIN_USER},"system:masters"\n`, { mode: 0o600 });

    const etcd = await withRetries(3, () => startEtcd(bins.etcd, dataDir, timeoutMs));
    started.push(etcd.proc);
    log(`etcd ready at ${etcd.url} (pid ${etcd.proc.pid})`);
    const api = await withRetries(3, () => startApiserver(bins.apiserver, dataDir, etcd.url, certs, tokenFile, { token, ca: caPem }, timeoutMs));
    started.push(api.proc);
    log(`kube-apiserver ready at ${api.server} (pid ${api.proc.pid})`);

    const ep: KubeEndpoint = { server: api.server, token, ca: caPem };
    await ensureDefaultNamespace(ep);
    const kubeconfigPath = join(dataDir, 'kubeconfig');
    await writeKubeconfig(kubeconfigPath, { server: api.server, token, caPem });
    const crdDir = opts.crdDir === undefined ? DEFAULT_CRD_DIR : opts.crdDir;
    const crds = crdDir === false ? [] : await installCrds(kubeconfigPath, crdDir);
    if (crds.length) log(`CRDs established: ${crds.join(', ')}`);

    let stopping: Promise<void> | undefined;
    return {
      kubeconfigPath,
      server: api.server,
      token,
      caFile: certs.caFile,
      dataDir,
      crds,
      pids: { etcd: etcd.proc.pid, apiserver: api.proc.pid },
      stop() {
        stopping ??= (async () => {
          await stopAll();
          if (ownsDir) await rm(dataDir, { recursive: true, force: true });
        })();
        return stopping;
      },
    };
  } catch (err) {
    await stopAll();
    // The data dir is kept: its logs/ explain the failure.
    if (err instanceof Error) err.message += `\n(control-plane data and logs kept in ${dataDir})`;
    throw err;
  }
}
