// /restic locks and /restic unlock: from an app name to its repository, the evidence, and the
// plain, --remove-all and VolSync unlock flows.
export { REMOVE_ALL_ACTION, REMOVE_ALL_AUDIT, REMOVE_ALL_CANCEL_ACTION, UNLOCK_AUDIT, VOLSYNC_UNLOCK_ACTION, VOLSYNC_UNLOCK_AUDIT } from './actions.ts';
export { activeMovers, factsFrom, gatherEvidence, lockDigest, secondApproverReason, type Evidence, type LockEvidence, type MoverPod } from './evidence.ts';
export { resticLocks, nextSteps, NO_CLUSTER } from './locks-command.ts';
export { pauseCommand, resume, setPaused } from './pause.ts';
export { plainUnlock, unlockReportBlocks } from './plain-unlock.ts';
export { approveRemoveAll, cancelRemoveAll, confirmationValue, parseConfirmationValue, requestRemoveAll, SECOND_OPERATOR_TERMINAL, type RemoveAllOptions } from './remove-all.ts';
export { describeHolder, holderFor, leaseName, repositoryLease, underRepositoryLease, LEASE_SECONDS } from './repository-lease.ts';
export { openRepository, secretProblem, withRepository, type OpenRepository } from './repository.ts';
export { listNamespaceSources, matchProblem, matchSource, readSource, resolveSource, type SourceMatch, type UnlockSource } from './source.ts';
export { approveVolSyncUnlock, crdHasResticUnlock, DEFAULT_VOLSYNC_FOLLOW, followVolSyncUnlock, volsyncRefusal, volsyncSupportsUnlock, type VolSyncFollowOptions } from './volsync-unlock.ts';
