/**
 * `/restic`: locks in an app's restic repository, and removing them safely. The handlers (and
 * restic, VolSync and lock evidence behind them) are imported when a command first needs them:
 * an idle bot does not hold their code.
 */
import type { CommandFamily } from '../../src/command/registry.ts';
import { objectVerb } from '../../src/command/registry.ts';
import { BackgroundWork } from '../../src/command/background.ts';
import { parseConfirmationValue, REMOVE_ALL_ACTION, REMOVE_ALL_AUDIT, REMOVE_ALL_CANCEL_ACTION, VOLSYNC_UNLOCK_ACTION, VOLSYNC_UNLOCK_AUDIT } from './actions.ts';
import { lazy } from '../../src/command/lazy.ts';
import type { RemoveAllOptions } from './remove-all.ts';
import type { VolSyncFollowOptions, VolSyncUnlockSupport } from './volsync-unlock.ts';

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

const locks = lazy(() => import('./locks.ts'));
const snapshots = lazy(() => import('./snapshots.ts'));
const unlock = lazy(() => import('./unlock.ts'));
const removeAll = lazy(() => import('./remove-all.ts'));
const volsyncUnlock = lazy(() => import('./volsync-unlock.ts'));

export function resticCommands(deps: ResticCommandDeps = {}): CommandFamily {
  const background = deps.background ?? new BackgroundWork();
  // One support cache per family, as the bot's own: created with the first command that asks.
  let support = deps.volsyncSupport;
  const volsync = async () => {
    const m = await volsyncUnlock();
    support ??= new m.VolSyncUnlockSupport();
    return { ...m, support, follow: { ...m.DEFAULT_VOLSYNC_FOLLOW, ...deps.volsyncFollow } };
  };
  return {
    command: '/restic',
    summary: 'restic repositories behind VolSync: snapshots, locks and unlocking',
    verbs: [
      objectVerb({
        verb: 'locks',
        summary: 'List the locks in the app\'s repository with a verdict each (stale, orphaned, live) and what they block.',
        nameArg: 'app',
        button: true,
        run: async (ctx, namespace, app) => (await locks()).resticLocks(ctx, namespace, app),
      }),
      objectVerb({
        verb: 'snapshots',
        summary: 'The newest snapshots in the app\'s repository, and where the repository disagrees with the ReplicationSource (no recent snapshot, retention not applied, prune overdue, a suspiciously small snapshot). Read-only, takes no lock.',
        nameArg: 'app',
        flags: [{ name: 'all', help: 'every snapshot, the older ones as pages in the thread' }],
        button: true,
        run: async (ctx, namespace, app, cmd) => (await snapshots()).resticSnapshots(ctx, namespace, app, cmd.flags.has('all')),
      }),
      objectVerb({
        verb: 'unlock',
        summary: 'Remove stale locks (`restic unlock`) and report what was removed and what remains.',
        nameArg: 'app',
        flags: [{ name: 'remove-all', help: 'remove every lock, after showing the evidence and an operator\'s confirmation (a second operator when a lock is live)' }],
        mutating: true,
        button: true,
        run: async (ctx, namespace, app, cmd) =>
          cmd.flags.has('remove-all')
            ? (await removeAll()).requestRemoveAll(ctx, namespace, app)
            : (await unlock()).plainUnlock(ctx, namespace, app, (await volsync()).support),
      }),
    ],
    // The buttons of /restic unlock: confirm or cancel --remove-all, and the VolSync path.
    actions: [
      {
        id: REMOVE_ALL_ACTION, action: REMOVE_ALL_AUDIT, mutating: true, needs: { cluster: true }, answers: 'approve', confirmationOf: parseConfirmationValue,
        handler: async (input, ctx, answer) => (await removeAll()).approveRemoveAll(input, ctx, answer!, deps.removeAll),
      },
      { id: REMOVE_ALL_CANCEL_ACTION, action: REMOVE_ALL_AUDIT, mutating: true, answers: 'cancel', confirmationOf: parseConfirmationValue, handler: async (input, ctx, answer) => (await removeAll()).cancelRemoveAll(input, ctx, answer!) },
      {
        id: VOLSYNC_UNLOCK_ACTION, action: VOLSYNC_UNLOCK_AUDIT, mutating: true, needs: { cluster: true }, answers: 'approve',
        handler: async (input, ctx, answer) => {
          const { approveVolSyncUnlock, follow } = await volsync();
          return approveVolSyncUnlock(input, ctx, answer!, background, follow);
        },
      },
    ],
  };
}
