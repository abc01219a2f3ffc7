// Builds kube-apiserver, kubectl and etcd from Go modules (release binaries cannot be downloaded
// here) into the cache dir, once per pinned version.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { kubeCachePaths, type KubeCachePaths } from './cache-dir.ts';
import { processAlive } from './process-alive.ts';
import {
  ETCD_MAIN_GO,
  etcdWrapperGoMod,
  kubeLdflags,
  kubeWrapperGoMod,
  requiredVersion,
  type GoModJson,
} from './go-wrapper-module.ts';
import { GENERATOR_REVISION, KUBE_VERSION } from './versions.ts';

export interface KubeBinaries {
  apiserver: string;
  kubectl: string;
  etcd: string;
}

export interface EnsureOptions {
  log?: (line: string) => void;
  /** Rebuild even when the stamp matches. */
  force?: boolean;
}

interface Stamp {
  kubeVersion: string;
  etcdVersion: string;
  goVersion: string;
  generatorRevision: number;
}

const defaultLog = (line: string): void => {
  process.stderr.write(`[kube-build] ${line}\n`);
};

export function goBinary(): string {
  if (process.env['GO']) return process.env['GO'];
  if (existsSync('/usr/local/go/bin/go')) return '/usr/local/go/bin/go';
  return 'go';
}

function goEnv(paths: KubeCachePaths): NodeJS.ProcessEnv {
  return {
    ...process.env,
    CGO_ENABLED: '0',
    // Never fetch a different toolchain: only the module proxy is reachable.
    GOTOOLCHAIN: 'local',
    GOFLAGS: '-mod=mod -buildvcs=false',
    GOMODCACHE: paths.goModCache,
    GOCACHE: paths.goBuildCache,
  };
}

interface RunResult {
  stdout: string;
}

function runGo(
  args: string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv; onStderrLine?: (line: string) => void },
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(goBinary(), args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let pending = '';
    const tail: string[] = [];
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      pending += d;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        tail.push(line);
        if (tail.length > 40) tail.shift();
        opts.onStderrLine?.(line);
      }
    });
    child.on('error', (err) =>
      reject(new Error(`could not run ${goBinary()} (${err.message}); install Go >= 1.25 or set GO=/path/to/go`)),
    );
    child.on('close', (code) => {
      if (pending) tail.push(pending);
      if (code === 0) resolve({ stdout });
      else reject(new Error(`go ${args.slice(0, 2).join(' ')} failed (exit ${code}):\n${tail.join('\n')}`));
    });
  });
}

async function readStamp(file: string): Promise<Stamp | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Stamp;
  } catch {
    return undefined;
  }
}


// Test files may start in parallel and CI runs the setup script first: only one build at a time.
async function withBuildLock<T>(paths: KubeCachePaths, log: (s: string) => void, fn: () => Promise<T>): Promise<T> {
  await mkdir(paths.root, { recursive: true });
  const lock = join(paths.root, 'build.lock');
  let announced = false;
  for (;;) {
    try {
      await writeFile(lock, String(process.pid), { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number((await readFile(lock, 'utf8').catch(() => '')).trim());
      if (!holder || !processAlive(holder)) {
        await rm(lock, { force: true });
        continue;
      }
      if (!announced) log(`waiting for the build already running in pid ${holder}`);
      announced = true;
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
  try {
    return await fn();
  } finally {
    await rm(lock, { force: true });
  }
}

function progressCounter(label: string, log: (s: string) => void, started: number): (line: string) => void {
  let packages = 0;
  let downloads = 0;
  return (line) => {
    if (line.startsWith('go: downloading ')) {
      downloads++;
      if (downloads % 25 === 1) log(`${label}: downloading modules (${downloads}: ${line.slice(16)})`);
    } else if (/^[\w.-]+(\/[\w.@~+-]+)*$/.test(line)) {
      packages++;
      if (packages % 100 === 0) {
        log(`${label}: compiled ${packages} packages (${Math.round((Date.now() - started) / 1000)}s)`);
      }
    }
  };
}

async function kubeGoModule(env: NodeJS.ProcessEnv, cwd: string): Promise<GoModJson> {
  const dl = await runGo(['mod', 'download', '-json', `k8s.io/kubernetes@${KUBE_VERSION}`], { cwd, env });
  const info = JSON.parse(dl.stdout) as { GoMod?: string; Error?: string };
  if (!info.GoMod) throw new Error(`go mod download k8s.io/kubernetes@${KUBE_VERSION} returned no go.mod: ${info.Error ?? dl.stdout}`);
  // `go mod edit -json` is Go's own go.mod parser; no hand-written one here.
  const parsed = await runGo(['mod', 'edit', '-json', info.GoMod], { cwd, env });
  return JSON.parse(parsed.stdout) as GoModJson;
}

async function goVersion(env: NodeJS.ProcessEnv, cwd: string): Promise<string> {
  return (await runGo(['env', 'GOVERSION'], { cwd, env })).stdout.trim();
}

async function buildInto(
  moduleDir: string,
  pkg: string,
  out: string,
  ldflags: string,
  env: NodeJS.ProcessEnv,
  log: (s: string) => void,
): Promise<void> {
  const started = Date.now();
  const name = out.split('/').pop() ?? out;
  log(`building ${name} from ${pkg} ...`);
  const tmp = `${out}.tmp-${process.pid}`;
  await runGo(['build', '-v', '-trimpath', '-ldflags', ldflags, '-o', tmp, pkg], {
    cwd: moduleDir,
    env,
    onStderrLine: progressCounter(name, log, started),
  });
  await rename(tmp, out);
  log(`built ${name} in ${Math.round((Date.now() - started) / 1000)}s`);
}

/** True when the pinned binaries are built (no Go invoked): tests use it to decide whether to skip. */
export async function kubeBinariesBuilt(): Promise<boolean> {
  const paths = kubeCachePaths();
  const stamp = await readStamp(paths.stampFile);
  return (
    stamp?.kubeVersion === KUBE_VERSION &&
    stamp.generatorRevision === GENERATOR_REVISION &&
    [paths.apiserver, paths.kubectl, paths.etcd].every((b) => existsSync(b))
  );
}

export async function ensureKubeBinaries(opts: EnsureOptions = {}): Promise<KubeBinaries> {
  const log = opts.log ?? defaultLog;
  const paths = kubeCachePaths();
  const bins: KubeBinaries = { apiserver: paths.apiserver, kubectl: paths.kubectl, etcd: paths.etcd };
  const allBuilt = (): boolean => Object.values(bins).every((b) => existsSync(b));

  const current = await readStamp(paths.stampFile);
  // Fast path without invoking go at all; the go version is re-checked only when building.
  if (!opts.force && current?.kubeVersion === KUBE_VERSION && current.generatorRevision === GENERATOR_REVISION && allBuilt()) {
    return bins;
  }

  return withBuildLock(paths, log, async () => {
    const again = await readStamp(paths.stampFile);
    if (!opts.force && again?.kubeVersion === KUBE_VERSION && again.generatorRevision === GENERATOR_REVISION && allBuilt()) {
      return bins;
    }
    const started = Date.now();
    const kubeDir = join(paths.srcDir, 'kube');
    const etcdDir = join(paths.srcDir, 'etcd');
    await mkdir(kubeDir, { recursive: true });
    await mkdir(etcdDir, { recursive: true });
    await mkdir(paths.binDir, { recursive: true });
    const env = goEnv(paths);

    log(`building Kubernetes ${KUBE_VERSION} test binaries into ${paths.binDir} (a cold build takes a long while)`);
    const kubeGoMod = await kubeGoModule(env, paths.root);
    const etcdVersion = requiredVersion(kubeGoMod, 'go.etcd.io/etcd/server/v3');
    const gover = await goVersion(env, paths.root);
    log(`go ${gover}, etcd ${etcdVersion} (from k8s.io/kubernetes@${KUBE_VERSION} go.mod)`);

    await rm(paths.stampFile, { force: true });
    // Regenerated each time from scratch: go.sum is recomputed against the module cache.
    await writeFile(join(etcdDir, 'go.mod'), etcdWrapperGoMod(etcdVersion, kubeGoMod));
    await rm(join(etcdDir, 'go.sum'), { force: true });
    await writeFile(join(etcdDir, 'main.go'), ETCD_MAIN_GO);
    await writeFile(join(kubeDir, 'go.mod'), kubeWrapperGoMod(KUBE_VERSION, kubeGoMod));
    await rm(join(kubeDir, 'go.sum'), { force: true });

    await buildInto(etcdDir, '.', paths.etcd, '-s -w', env, log);
    const ldflags = kubeLdflags(KUBE_VERSION, new Date().toISOString().replace(/\.\d+Z$/, 'Z'));
    await buildInto(kubeDir, 'k8s.io/kubernetes/cmd/kube-apiserver', paths.apiserver, ldflags, env, log);
    await buildInto(kubeDir, 'k8s.io/kubernetes/cmd/kubectl', paths.kubectl, ldflags, env, log);

    const stamp: Stamp = { kubeVersion: KUBE_VERSION, etcdVersion, goVersion: gover, generatorRevision: GENERATOR_REVISION };
    await writeFile(paths.stampFile, `${JSON.stringify(stamp, null, 2)}\n`);
    log(`all binaries built in ${Math.round((Date.now() - started) / 1000)}s`);
    return bins;
  });
}

if (import.meta.main) {
  const force = process.argv.includes('--force');
  ensureKubeBinaries({ force }).then(
    (b) => {
      process.stdout.write(`${b.apiserver}\n${b.kubectl}\n${b.etcd}\n`);
    },
    (err: unknown) => {
      process.stderr.write(`[kube-build] ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
