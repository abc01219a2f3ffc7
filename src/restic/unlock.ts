// `restic unlock [--remove-all]`, reported by what actually changed: restic's own message differs
// between versions (and says nothing at all when it removed nothing), the lock list does not.
import { listLocks, type ListLocksOptions, type ResticLock } from './locks.ts';
import { runResticChecked, type ResticTarget } from './run.ts';
import { resticStaleness, verdictFor, type HostFacts, type LockVerdict } from './verdict.ts';

export interface UnlockOptions extends ListLocksOptions {
  removeAll?: boolean;
  /** Required: the verdicts of what remains depend on which pods exist. */
  facts: HostFacts;
  now?: () => Date;
}

export interface RemainingLock {
  lock: ResticLock;
  verdict: LockVerdict;
  /** Why this unlock left it in place. */
  keptBecause: string;
}

export interface UnlockReport {
  command: 'restic unlock' | 'restic unlock --remove-all';
  before: ResticLock[];
  removed: ResticLock[];
  remaining: RemainingLock[];
  /**
   * Locks that vanished and came back under a new ID from the same host and PID: a running restic
   * refreshing its lock (every 5 minutes it writes a new lock and deletes the old one). Not removed.
   */
  refreshed: ResticLock[];
  /** Locks that appeared while unlock ran: someone started restic meanwhile. */
  appeared: ResticLock[];
  /** What restic itself printed (already free of secrets: it never prints credentials here). */
  resticOutput: string;
}

export async function unlock(target: ResticTarget, opts: UnlockOptions): Promise<UnlockReport> {
  const { removeAll = false, facts, now = () => new Date(), ...listOpts } = opts;
  const { concurrency: _concurrency, ...runOpts } = listOpts;
  const args = removeAll ? ['unlock', '--remove-all'] : ['unlock'];
  const before = await listLocks(target, listOpts);
  const result = await runResticChecked(target, args, runOpts);
  const after = await listLocks(target, listOpts);

  const beforeIds = new Set(before.map((l) => l.id));
  const afterIds = new Set(after.map((l) => l.id));
  const newLocks = after.filter((l) => !beforeIds.has(l.id));
  const sameHolder = (a: ResticLock, b: ResticLock): boolean => a.hostname === b.hostname && a.pid === b.pid;

  const removed: ResticLock[] = [];
  const refreshed: ResticLock[] = [];
  for (const lock of before) {
    if (afterIds.has(lock.id)) continue;
    (newLocks.some((n) => sameHolder(n, lock)) ? refreshed : removed).push(lock);
  }
  const appeared = newLocks.filter((n) => !refreshed.some((r) => sameHolder(n, r)));

  const at = now();
  const remaining = after
    .filter((l) => beforeIds.has(l.id) || refreshed.some((r) => sameHolder(l, r)))
    .map((lock) => ({ lock, verdict: verdictFor(lock, at, facts), keptBecause: keptBecause(lock, at, facts, removeAll) }));

  return {
    command: removeAll ? 'restic unlock --remove-all' : 'restic unlock',
    before,
    removed,
    remaining,
    refreshed,
    appeared,
    resticOutput: (result.stdout + result.stderr).trim(),
  };
}

function keptBecause(lock: ResticLock, at: Date, facts: HostFacts, removeAll: boolean): string {
  if (removeAll) return 'it was written after `restic unlock --remove-all` ran (a restic is running against the repository)';
  const staleness = resticStaleness(lock, at, facts);
  if (!staleness.stale) return `plain \`restic unlock\` removes only stale locks, and restic does not call this one stale: ${staleness.why}`;
  return 'it was written while `restic unlock` ran, or became stale just after';
}
