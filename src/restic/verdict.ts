// What a lock is and what to do about it. Pure: the clock and the facts about hosts are passed in.
import { formatAge } from './lock-holder.ts';
import type { ResticLock } from './locks.ts';
import { isMoverHostname } from '../volsync/mover-pods.ts';

export type Verdict = 'stale' | 'orphaned' | 'live';
export type PodPhase = 'Running' | 'Pending' | 'Succeeded' | 'Failed' | 'Unknown' | 'absent' | 'not-a-pod';
export type RemovableBy = 'unlock' | 'unlock --remove-all' | 'none';

export interface HostFacts {
  /** The hostname restic sees where `restic unlock` would run (the bot's own). */
  thisHost: string;
  isProcessAlive(pid: number): boolean;
  /** The phase of the pod whose hostname this is, in the repository's namespace. */
  podPhase(hostname: string): PodPhase;
}

export interface LockBlocks {
  /** The restic operations that fail with "repository is already locked" while this lock exists. */
  operations: string[];
  summary: string;
}

export interface LockVerdict {
  verdict: Verdict;
  reason: string;
  removableBy: RemovableBy;
  blocks: LockBlocks;
  /** Whether restic's own rule (the one plain `restic unlock` applies here and now) calls it stale. */
  resticCallsItStale: boolean;
  /** When restic's age rule will call it stale anywhere: 30 minutes after it was made. */
  staleAt: Date;
}

export type LockFacts = Pick<ResticLock, 'time' | 'exclusive' | 'hostname' | 'pid'>;

/** restic 0.18 internal/restic/lock.go `StaleLockTimeout`. */
export const STALE_LOCK_TIMEOUT_MS = 30 * 60_000;
/** A running restic rewrites its lock this often (internal/repository/lock.go). */
export const LOCK_REFRESH_INTERVAL_MS = 5 * 60_000;

export { isMoverHostname };

export interface Staleness {
  stale: boolean;
  why: string;
}

/**
 * restic's own rule, `Lock.Stale()`: stale when older than 30 minutes, or when made on this host by
 * a process that no longer exists. A lock from another host is never stale before 30 minutes.
 */
export function resticStaleness(lock: LockFacts, now: Date, facts: Pick<HostFacts, 'thisHost' | 'isProcessAlive'>): Staleness {
  const ageMs = now.getTime() - lock.time.getTime();
  if (ageMs > STALE_LOCK_TIMEOUT_MS) {
    return { stale: true, why: `it is ${formatAge(ageMs)} old, and restic calls any lock older than 30 minutes stale` };
  }
  if (lock.hostname !== facts.thisHost) {
    return {
      stale: false,
      why: `it was made on another host (${lock.hostname}) ${ageText(ageMs)}, and restic only calls such a lock stale 30 minutes after it was made (${formatInstant(staleAt(lock))})`,
    };
  }
  if (!facts.isProcessAlive(lock.pid)) {
    return { stale: true, why: `it was made on this host (${facts.thisHost}) by PID ${lock.pid}, which is no longer running` };
  }
  return { stale: false, why: `PID ${lock.pid} on this host (${facts.thisHost}) is still running` };
}

export function verdictFor(lock: LockFacts, now: Date, facts: HostFacts): LockVerdict {
  const restic = resticStaleness(lock, now, facts);
  const base = { blocks: blocksFor(lock), resticCallsItStale: restic.stale, staleAt: staleAt(lock) };
  if (restic.stale) {
    return { ...base, verdict: 'stale', removableBy: 'unlock', reason: `Stale: ${restic.why}; plain \`restic unlock\` removes it.` };
  }
  if (lock.hostname === facts.thisHost) {
    return { ...base, verdict: 'live', removableBy: 'none', reason: `Live: ${restic.why}.` };
  }

  const host = lock.hostname;
  const phase = facts.podPhase(host);
  const notYet = `restic will not call it stale before ${formatInstant(base.staleAt)}, so until then only \`restic unlock --remove-all\` clears it`;
  const pod = isMoverHostname(host) ? 'mover pod' : 'pod';
  switch (phase) {
    case 'Succeeded':
    case 'Failed':
      return {
        ...base,
        verdict: 'orphaned',
        removableBy: 'unlock --remove-all',
        reason: `Orphaned: its ${pod} ${host} has finished (${phase}), so no restic is left to hold it; ${notYet}.`,
      };
    case 'absent':
      if (isMoverHostname(host)) {
        return {
          ...base,
          verdict: 'orphaned',
          removableBy: 'unlock --remove-all',
          reason: `Orphaned: its mover pod ${host} no longer exists, and a running restic would have refreshed the lock every 5 minutes; ${notYet}.`,
        };
      }
      return {
        ...base,
        verdict: 'live',
        removableBy: 'none',
        reason: `Live: made ${ageText(now.getTime() - lock.time.getTime())} on ${host}, which is not a pod here (another machine?); not stale by restic's rule and not provably dead.`,
      };
    case 'Running':
      return {
        ...base,
        verdict: 'live',
        removableBy: 'none',
        reason: `Live: its host ${host} is a running pod, and a running restic keeps its lock fresh (every 5 minutes).`,
      };
    case 'Pending':
    case 'Unknown':
      return {
        ...base,
        verdict: 'live',
        removableBy: 'none',
        reason: `Live: its host ${host} is a pod in phase ${phase}; not stale by restic's rule and not provably dead.`,
      };
    case 'not-a-pod':
      return {
        ...base,
        verdict: 'live',
        removableBy: 'none',
        reason: `Live: made ${ageText(now.getTime() - lock.time.getTime())} on ${host}, which is not a pod (another machine?); not stale by restic's rule and not provably dead.`,
      };
  }
}

/** What this lock stops. Every lock counts, stale or not: restic checks exclusivity, not freshness. */
export function blocksFor(lock: Pick<ResticLock, 'exclusive'>): LockBlocks {
  if (lock.exclusive) {
    return {
      operations: ['backup', 'restore', 'forget', 'prune', 'check', 'snapshots'],
      summary:
        'An exclusive lock blocks every other restic operation on this repository: backups, restores and maintenance all fail with "repository is already locked exclusively".',
    };
  }
  return {
    operations: ['forget', 'prune', 'check'],
    summary:
      'A shared lock blocks the exclusive forget/prune/check, so backups keep succeeding while retention silently stops.',
  };
}

/** The repository-wide effect of all its locks: the worst of them. */
export function repositoryBlocks(locks: readonly Pick<ResticLock, 'exclusive'>[]): LockBlocks | undefined {
  if (locks.length === 0) return undefined;
  return blocksFor({ exclusive: locks.some((l) => l.exclusive) });
}

export function staleAt(lock: Pick<ResticLock, 'time'>): Date {
  return new Date(lock.time.getTime() + STALE_LOCK_TIMEOUT_MS);
}

function ageText(ageMs: number): string {
  return ageMs < 0 ? `${formatAge(-ageMs)} in the future (clock skew)` : `${formatAge(ageMs)} ago`;
}

/** "2025-12-13 10:54 UTC": Slack renders times in each reader's zone elsewhere; here one plain form. */
export function formatInstant(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
