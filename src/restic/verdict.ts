// What a lock is and what to do about it. Pure: the clock and the facts about hosts are passed in.
import { formatAge } from './lock-holder.ts';
import type { ResticLock } from './locks.ts';
import { isMoverHostname } from '../volsync/mover-pods.ts';

/**
 * stale: restic's own rule removes it. orphaned: provably dead (its pod finished, or it was not
 * refreshed). unknown: its mover pod is not where we can see, but it is young enough that a restic
 * elsewhere may hold it. live: its holder runs, or may.
 */
export type Verdict = 'stale' | 'orphaned' | 'unknown' | 'live';
export type PodPhase = 'Running' | 'Pending' | 'Succeeded' | 'Failed' | 'Unknown' | 'absent' | 'not-a-pod';
export type RemovableBy = 'unlock' | 'unlock --remove-all' | 'none';

export interface HostFacts {
  /** The hostname restic sees where `restic unlock` would run (the bot's own). */
  thisHost: string;
  isProcessAlive(pid: number): boolean;
  /** The phase of the pod whose hostname this is, among the pods the bot can see (the repository's namespace, and movers cluster-wide). */
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
  /** From when its age alone proves it was not refreshed (refresh interval plus a margin after it was made). */
  orphanedAt: Date;
}

export type LockFacts = Pick<ResticLock, 'time' | 'exclusive' | 'hostname' | 'pid'>;

/** restic 0.18 internal/restic/lock.go `StaleLockTimeout`. */
export const STALE_LOCK_TIMEOUT_MS = 30 * 60_000;
/** A running restic rewrites its lock this often (internal/repository/lock.go). */
export const LOCK_REFRESH_INTERVAL_MS = 5 * 60_000;
/** Slack for a refresh that is late (a slow backend, the writer's clock a little off ours). */
export const UNREFRESHED_MARGIN_MS = 5 * 60_000;
/** A lock older than this was not refreshed: whoever made it is no longer running restic's refresh. */
export const ORPHANED_AFTER_MS = LOCK_REFRESH_INTERVAL_MS + UNREFRESHED_MARGIN_MS;

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
  const base = { blocks: blocksFor(lock), resticCallsItStale: restic.stale, staleAt: staleAt(lock), orphanedAt: orphanedAt(lock) };
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
    case 'absent': {
      const ageMs = now.getTime() - lock.time.getTime();
      if (!isMoverHostname(host)) {
        return {
          ...base,
          verdict: 'live',
          removableBy: 'none',
          reason: `Live: made ${ageText(ageMs)} on ${host}, which is not a pod here (another machine?); not stale by restic's rule and not provably dead.`,
        };
      }
      // Absence proves nothing by itself: the mover may run in another namespace or cluster
      // against the same repository, or have started after the pods were read. Only the lock's age
      // does: a running restic rewrites its lock every 5 minutes.
      if (ageMs > ORPHANED_AFTER_MS) {
        return {
          ...base,
          verdict: 'orphaned',
          removableBy: 'unlock --remove-all',
          reason: `Orphaned: no pod ${host} exists where the bot can see, and the lock is ${formatAge(ageMs)} old: a running restic rewrites its lock every 5 minutes, so this one was not refreshed for longer than that plus a ${formatAge(UNREFRESHED_MARGIN_MS)} margin; ${notYet}.`,
        };
      }
      return {
        ...base,
        verdict: 'unknown',
        removableBy: 'unlock --remove-all',
        reason: `Unknown: its host looks like a VolSync mover, but no pod ${host} exists where the bot can see, and the lock is ${ageMs < 0 ? `from ${formatAge(-ageMs)} in the future (clock skew)` : `${formatAge(ageMs)} old`}. That does not prove it dead: a mover in another namespace or cluster, or one started after the pods were read, may hold it and keep it fresh. If it is still there at ${formatInstant(base.orphanedAt)}, it was not refreshed and is provably orphaned; until then removing it takes two operators.`,
      };
    }
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

export function orphanedAt(lock: Pick<ResticLock, 'time'>): Date {
  return new Date(lock.time.getTime() + ORPHANED_AFTER_MS);
}

function ageText(ageMs: number): string {
  return ageMs < 0 ? `${formatAge(-ageMs)} in the future (clock skew)` : `${formatAge(ageMs)} ago`;
}

/** "2025-12-13 10:54 UTC": Slack renders times in each reader's zone elsewhere; here one plain form. */
export function formatInstant(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
