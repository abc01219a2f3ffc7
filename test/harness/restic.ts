// Real restic (and rest-server) for tests: finds the binaries test/harness/setup/restic.sh
// built, makes repositories in temp dirs, and leaves locks behind the way a crashed mover does.
import { isExecutable } from '../../src/restic/binary.ts';
import { PINNED_RESTIC_VERSION } from '../../src/restic/binary.ts';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readlinkSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { listLockIds, listLocks, type ResticLock } from '../../src/restic/locks.ts';
import { runResticChecked, type ResticTarget } from '../../src/restic/run.ts';
import { cacheRoot } from './kube/cache-dir.ts';
import { freePort } from './kube/free-port.ts';
import { noteSecretEnv, noteSecrets } from './secrets-scan.ts';

const execFileAsync = promisify(execFile);

export const RESTIC_VERSION = PINNED_RESTIC_VERSION;
export const REST_SERVER_VERSION = 'v0.14.0';
const SETUP_HINT = 'run `bash test/harness/setup/restic.sh` (builds restic and rest-server into the cache)';


/** The restic the tests use: $RESTIC_BIN, else the one setup/restic.sh built; undefined if neither. */
export function resticBinary(): string | undefined {
  const explicit = process.env['RESTIC_BIN'];
  if (explicit) return isExecutable(explicit) ? explicit : undefined;
  const built = join(cacheRoot(), 'restic', RESTIC_VERSION, 'bin', 'restic');
  return isExecutable(built) ? built : undefined;
}

/** rest-server (a local REST backend): $REST_SERVER_BIN, else the one setup/restic.sh built. */
export function restServerBinary(): string | undefined {
  const explicit = process.env['REST_SERVER_BIN'];
  if (explicit) return isExecutable(explicit) ? explicit : undefined;
  const built = join(cacheRoot(), 'rest-server', REST_SERVER_VERSION, 'bin', 'rest-server');
  return isExecutable(built) ? built : undefined;
}

/**
 * For `describe(..., { skip })`: a reason to skip when the binary is missing, or false to run.
 * In CI (CI set) a missing binary is an error, never a skip.
 */
export function skipUnlessBuilt(what: 'restic' | 'rest-server'): string | false {
  const bin = what === 'restic' ? resticBinary() : restServerBinary();
  if (bin) return false;
  const message = `${what} ${what === 'restic' ? RESTIC_VERSION : REST_SERVER_VERSION} is not built: ${SETUP_HINT}`;
  if (process.env['CI']) throw new Error(message);
  return message;
}

function requireRestic(): string {
  const bin = resticBinary();
  if (!bin) throw new Error(`restic ${RESTIC_VERSION} is not built: ${SETUP_HINT}`);
  return bin;
}

/** A fresh repository in a temp dir with one snapshot of a small directory. */
export async function makeLocalRepository(opts: { password?: string } = {}): Promise<{ target: ResticTarget; dir: string; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'backup-bot-restic-repo-'));
  const target: ResticTarget = {
    repository: join(dir, 'repo'),
    env: { RESTIC_PASSWORD: opts.password ?? `pw-${Math.random().toString(36).slice(2)}` },
    credentialsFrom: 'Secret test/restic-secret',
  };
  noteSecretEnv(target.env);
  await initWithSnapshot(target, dir);
  return { target, dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** `restic init` and one `restic backup` of a two-file directory under `workDir`. */
export async function initWithSnapshot(target: ResticTarget, workDir: string): Promise<void> {
  const bin = requireRestic();
  const data = join(workDir, 'data');
  await mkdir(join(data, 'sub'), { recursive: true });
  await writeFile(join(data, 'hello.txt'), 'hello from backup-bot\n');
  await writeFile(join(data, 'sub', 'numbers.txt'), Array.from({ length: 1000 }, (_, i) => String(i)).join('\n'));
  await runResticChecked(target, ['init'], { bin, timeoutMs: 60_000 });
  await runResticChecked(target, ['backup', '--host', 'test-source', data], { bin, timeoutMs: 60_000 });
}

export interface HeldLock {
  /** The lock as `restic cat lock` shows it. */
  lock: ResticLock;
  /** Kills the restic holding it with SIGKILL (it cannot remove its lock) and waits until it is reaped. */
  kill9(): Promise<void>;
}

const holders = new Set<ChildProcess>();

/**
 * Starts `restic backup --stdin` on a stdin that never ends, so restic sits holding a shared lock,
 * and waits until that lock is in the repository. With `hostname`, restic runs in its own UTS
 * namespace under that hostname (needs root: `unshare --uts`), as if it were a mover pod.
 * No shell is involved: `unshare` keeps a namespace open, `nsenter` sets the name and runs restic.
 */
export async function holdLock(target: ResticTarget, opts: { hostname?: string; timeoutMs?: number; exclusive?: boolean } = {}): Promise<HeldLock> {
  const bin = requireRestic();
  const known = new Set(await listLockIds(target, { bin }));
  const home = await mkdtemp(join(tmpdir(), 'backup-bot-restic-holder-'));
  const env: Record<string, string> = {
    ...target.env,
    RESTIC_REPOSITORY: target.repository,
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: home,
    RESTIC_CACHE_DIR: join(home, 'cache'),
  };
  // Exclusive, as a prune holds it: `restic key passwd` takes an exclusive lock, then waits for the new password on stdin.
  const args = opts.exclusive ? ['key', 'passwd'] : ['backup', '--stdin', '--stdin-filename', 'held-open.bin', '--host', 'held-open'];

  let namespaceKeeper: ChildProcess | undefined;
  let child: ChildProcess;
  if (opts.hostname === undefined) {
    child = spawn(bin, args, { env, stdio: ['pipe', 'ignore', 'pipe'] });
  } else {
    namespaceKeeper = spawn('unshare', ['--uts', 'sleep', 'infinity'], { stdio: 'ignore' });
    holders.add(namespaceKeeper);
    const uts = await namespaceOf(namespaceKeeper);
    await execFileAsync('nsenter', [`--uts=${uts}`, 'hostname', opts.hostname]);
    // nsenter enters a UTS namespace without forking, so the child's PID is restic's PID.
    child = spawn('nsenter', [`--uts=${uts}`, bin, ...args], { env, stdio: ['pipe', 'ignore', 'pipe'] });
  }
  holders.add(child);
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const stopAll = async (): Promise<void> => {
    for (const p of [child, namespaceKeeper]) {
      if (p && p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    }
    await exited;
    if (namespaceKeeper) holders.delete(namespaceKeeper);
    holders.delete(child);
    await rm(home, { recursive: true, force: true });
  };

  try {
    const lock = await waitForNewLock(target, bin, known, child, opts.timeoutMs ?? 20_000, () => stderr);
    return { lock, kill9: stopAll };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** A lock left behind by a restic killed with SIGKILL (a crashed or evicted mover): its id. */
export async function deadLock(target: ResticTarget, opts: { hostname?: string } = {}): Promise<string> {
  const held = await holdLock(target, opts);
  await held.kill9();
  return held.lock.id;
}

/** Kills every restic holdLock started and has not killed yet (for `after` hooks). */
export async function killAllHolders(): Promise<void> {
  for (const p of holders) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  holders.clear();
}

async function namespaceOf(keeper: ChildProcess): Promise<string> {
  const mine = readlinkSync('/proc/self/ns/uts');
  const path = `/proc/${keeper.pid}/ns/uts`;
  const deadline = Date.now() + 5_000;
  // unshare execs sleep after unshare(2); until then the PID is still in our namespace.
  while (Date.now() < deadline) {
    if (keeper.exitCode !== null) throw new Error('unshare --uts exited: the tests need root (CAP_SYS_ADMIN) to fake a mover hostname');
    try {
      if (readlinkSync(path) !== mine) return path;
    } catch {
      // not there yet
    }
    await sleep(20);
  }
  throw new Error('unshare --uts did not create a UTS namespace within 5 s');
}

async function waitForNewLock(
  target: ResticTarget,
  bin: string,
  known: Set<string>,
  child: ChildProcess,
  timeoutMs: number,
  stderr: () => string,
): Promise<ResticLock> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`the lock-holding restic exited early (${child.exitCode ?? child.signalCode}): ${stderr().trim()}`);
    }
    const ids = await listLockIds(target, { bin });
    if (ids.some((id) => !known.has(id))) {
      const locks = await listLocks(target, { bin });
      const mine = locks.find((l) => !known.has(l.id) && l.pid === child.pid);
      if (mine) return mine;
    }
    await sleep(100);
  }
  throw new Error(`restic did not create its lock within ${timeoutMs} ms: ${stderr().trim()}`);
}

export interface RunningRestServer {
  /** e.g. http://127.0.0.1:41234 — append "/<repo>" and prefix "rest:" for RESTIC_REPOSITORY. */
  url: string;
  dataDir: string;
  stop(): Promise<void>;
}

/**
 * Starts rest-server on a free loopback port with its own data dir. With `auth`, it requires that
 * user (an htpasswd file with a {SHA} entry, which rest-server accepts); without, `--no-auth`.
 */
export async function startRestServer(opts: { auth?: { username: string; password: string } } = {}): Promise<RunningRestServer> {
  const bin = restServerBinary();
  if (!bin) throw new Error(`rest-server ${REST_SERVER_VERSION} is not built: ${SETUP_HINT}`);
  const dataDir = await mkdtemp(join(tmpdir(), 'backup-bot-rest-server-'));
  const args = ['--path', dataDir];
  if (opts.auth) {
    noteSecrets(opts.auth.password);
    const sha = createHash('sha1').update(opts.auth.password).digest('base64');
    const htpasswd = join(dataDir, '.htpasswd');
    await writeFile(htpasswd, `${opts.auth.username}:{SHA}${sha}\n`, { mode: 0o600 });
    args.push('--htpasswd-file', htpasswd);
  } else {
    args.push('--no-auth');
  }
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const child = spawn(bin, [...args, '--listen', `127.0.0.1:${port}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const stop = async (): Promise<void> => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
      await rm(dataDir, { recursive: true, force: true });
    };
    if (await waitForPort(port, child, 10_000)) return { url: `http://127.0.0.1:${port}`, dataDir, stop };
    if (child.exitCode === null) {
      await stop();
      throw new Error(`rest-server did not listen on 127.0.0.1:${port} within 10 s: ${stderr.trim()}`);
    }
    // Port taken between freePort() and listen: try another.
  }
  await rm(dataDir, { recursive: true, force: true });
  throw new Error('rest-server could not get a loopback port after 3 attempts');
}

async function waitForPort(port: number, child: ChildProcess, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && child.exitCode === null) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port }, () => {
        socket.end();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (open) return true;
    await sleep(50);
  }
  return false;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
