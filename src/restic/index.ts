// The restic engine: run restic with a repository's credentials, read its locks, judge them, unlock.
export { resticBinary } from './binary.ts';
export { buildResticEnvironment, ignoredSecretKeys, isPassedThrough, OPTIONAL_SECRET_KEYS, REQUIRED_SECRET_KEYS } from './environment.ts';
export { ResticError, ResticLockedError, resticErrorFor, firstMeaningfulLine, type ResticErrorKind, type ResticErrorContext } from './errors.ts';
export { isProcessAlive, localHostFacts, podHostname, podPhaseLookup } from './host-facts.ts';
export { describeHolder, formatAge, parseLockHolder, type LockHolder } from './lock-holder.ts';
export { listLockIds, listLocks, parseLock, parseLockIds, readLocks, type ListLocksOptions, type ResticLock } from './locks.ts';
export { redact, isSecretKey } from './redact.ts';
export { describeCommand, runRestic, runResticChecked, secretsOf, type ResticResult, type ResticTarget, type RunResticOptions } from './run.ts';
export { unlock, type RemainingLock, type UnlockOptions, type UnlockReport } from './unlock.ts';
export {
  blocksFor,
  formatInstant,
  isMoverHostname,
  LOCK_REFRESH_INTERVAL_MS,
  ORPHANED_AFTER_MS,
  orphanedAt,
  repositoryBlocks,
  resticStaleness,
  STALE_LOCK_TIMEOUT_MS,
  staleAt,
  UNREFRESHED_MARGIN_MS,
  verdictFor,
  type HostFacts,
  type LockBlocks,
  type LockFacts,
  type LockVerdict,
  type PodPhase,
  type RemovableBy,
  type Staleness,
  type Verdict,
} from './verdict.ts';
