import { readFileSync } from 'node:fs';

/**
 * Whether pid is a live process. A zombie (exited, never reaped — some container init processes
 * do not reap orphans) counts as dead, which kill(pid, 0) alone would not tell.
 */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
  }
  // No procfs (not Linux): fall back to signal 0.
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether pid is alive and its command line mentions needle: a pid recorded in a state file may
 * have been reused by an unrelated process since, which must never be signalled.
 */
export function processMatches(pid: number, needle: string): boolean {
  if (!processAlive(pid)) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(needle);
  } catch {
    return true;
  }
}
