/** `/restic`: locks in an app's restic repository, and removing them safely. */
import type { CommandFamily } from '../../src/command/registry.ts';
import { objectVerb } from '../../src/command/registry.ts';
import { approveRemoveAll, cancelRemoveAll, parseConfirmationValue, requestRemoveAll } from './remove-all.ts';
import { approveVolSyncUnlock, DEFAULT_VOLSYNC_FOLLOW, VolSyncUnlockSupport } from './volsync-unlock.ts';
import { BackgroundWork } from '../../src/command/background.ts';
import { plainUnlock } from './unlock.ts';
import { REMOVE_ALL_ACTION, REMOVE_ALL_AUDIT, REMOVE_ALL_CANCEL_ACTION, VOLSYNC_UNLOCK_ACTION, VOLSYNC_UNLOCK_AUDIT } from './actions.ts';
import { resticLocks } from './locks.ts';
import type { RemoveAllOptions } from './remove-all.ts';
import type { VolSyncFollowOptions } from './volsync-unlock.ts';

export interface ResticCommandDeps {
  /** How --remove-all waits for a mover to stop, and test hooks. */
  removeAll?: RemoveAllOptions;
  /** How the VolSync unlock is followed (tests shorten it). */
  volsyncFollow?: Partial<VolSyncFollowOptions>;
  /** Where follow-ups run, so the bot's stop() ends them (startBot passes its own). */
  background?: BackgroundWork;
  /** Whether the cluster's VolSync can unlock (cached per bot). */
  volsyncSupport?: VolSyncUnlockSupport;
}

export function resticCommands(deps: ResticCommandDeps = {}): CommandFamily {
  const follow = { ...DEFAULT_VOLSYNC_FOLLOW, ...deps.volsyncFollow };
  const background = deps.background ?? new BackgroundWork();
  const support = deps.volsyncSupport ?? new VolSyncUnlockSupport();
  return {
    command: '/restic',
    summary: 'restic repositories behind VolSync: locks and unlocking',
    verbs: [
      objectVerb({
        verb: 'locks',
        summary: 'List the locks in the app\'s repository with a verdict each (stale, orphaned, live) and what they block.',
        nameArg: 'app',
        run: resticLocks,
      }),
      objectVerb({
        verb: 'unlock',
        summary: 'Remove stale locks (`restic unlock`) and report what was removed and what remains.',
        nameArg: 'app',
        flags: [{ name: 'remove-all', help: 'remove every lock, after showing the evidence and an operator\'s confirmation (a second operator when a lock is live)' }],
        mutating: true,
        run: (ctx, namespace, app, cmd) => (cmd.flags.has('remove-all') ? requestRemoveAll(ctx, namespace, app) : plainUnlock(ctx, namespace, app, support)),
      }),
    ],
    // The buttons of /restic unlock: confirm or cancel --remove-all, and the VolSync path.
    actions: [
      {
        id: REMOVE_ALL_ACTION, action: REMOVE_ALL_AUDIT, mutating: true, needs: { cluster: true }, answers: 'approve', confirmationOf: parseConfirmationValue,
        handler: (input, ctx, answer) => approveRemoveAll(input, ctx, answer!, deps.removeAll),
      },
      { id: REMOVE_ALL_CANCEL_ACTION, action: REMOVE_ALL_AUDIT, mutating: true, answers: 'cancel', confirmationOf: parseConfirmationValue, handler: (input, ctx, answer) => cancelRemoveAll(input, ctx, answer!) },
      {
        id: VOLSYNC_UNLOCK_ACTION, action: VOLSYNC_UNLOCK_AUDIT, mutating: true, needs: { cluster: true }, answers: 'approve',
        handler: (input, ctx, answer) => approveVolSyncUnlock(input, ctx, answer!, background, follow),
      },
    ],
  };
}
