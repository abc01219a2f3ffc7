// Long-running control-plane processes (etcd, kube-apiserver) that must never outlive the Node
// process that started them: a test run that crashes or is killed must not leave them behind.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, closeSync, readFileSync } from 'node:fs';

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' covers normal ends and process.exit(); SIGKILL of the parent is covered by pdeathsig.
  process.on('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

const SETPRIV = '/usr/bin/setpriv';

export interface ManagedProcess {
  name: string;
  pid: number;
  logFile: string;
  /** Resolves with the exit code/signal once the process has ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  hasExited(): boolean;
  stop(graceMs?: number): Promise<void>;
  logTail(lines?: number): string;
}

export function startManaged(name: string, bin: string, args: string[], logFile: string): ManagedProcess {
  installExitHook();
  const out = openSync(logFile, 'a');
  // setpriv --pdeathsig makes the kernel kill the child when its parent dies, even by SIGKILL;
  // it then execs the binary, so the pid we hold is the server's own.
  const [cmd, argv] = existsSync(SETPRIV) ? [SETPRIV, ['--pdeathsig', 'SIGKILL', '--', bin, ...args]] : [bin, args];
  const child = spawn(cmd, argv, { stdio: ['ignore', out, out] });
  closeSync(out);
  let ended = false;
  live.add(child);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => {
      ended = true;
      live.delete(child);
      resolve({ code, signal });
    });
    child.on('error', () => {
      ended = true;
      live.delete(child);
      resolve({ code: -1, signal: null });
    });
  });
  const logTail = (lines = 30): string => {
    try {
      return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  };
  return {
    name,
    pid: child.pid ?? -1,
    logFile,
    exited,
    hasExited: () => ended,
    logTail,
    async stop(graceMs = 10_000) {
      if (ended) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
