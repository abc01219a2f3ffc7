/** `/restic`: locks in an app's restic repository, and removing them safely. */
import type { CommandFamily, ParsedCommand } from '../../src/command/registry.ts';
import type { ActionHandler, ActionInput, ActionResult, CommandContext } from '../../src/command/context.ts';
import type { Reply } from '../../src/reply.ts';
import { errorReply } from '../../src/reply.ts';
import { UserError } from '../../src/errors.ts';
import { approveRemoveAll, cancelRemoveAll, requestRemoveAll } from './remove-all.ts';
import { approveVolSyncUnlock, DEFAULT_VOLSYNC_FOLLOW } from './volsync-unlock.ts';
import { plainUnlock } from './unlock.ts';
import { REMOVE_ALL_ACTION, REMOVE_ALL_CANCEL_ACTION, VOLSYNC_UNLOCK_ACTION } from './actions.ts';
import { resticLocks } from './locks.ts';
import type { RemoveAllOptions } from './remove-all.ts';
import type { VolSyncFollowOptions } from './volsync-unlock.ts';

export interface ResticCommandDeps {
  /** How --remove-all waits for a mover to stop, and test hooks. */
  removeAll?: RemoveAllOptions;
  /** How the VolSync unlock is followed (tests shorten it). */
  volsyncFollow?: Partial<VolSyncFollowOptions>;
}

// A UserError is an answer, not a failure: it becomes the reply here, so the log keeps error
// level (and stack traces) for what really broke.
const answered = (fn: (cmd: ParsedCommand, ctx: CommandContext) => Promise<Reply>) => async (cmd: ParsedCommand, ctx: CommandContext): Promise<Reply> => {
  try {
    return await fn(cmd, ctx);
  } catch (err) {
    if (err instanceof UserError) return errorReply(err.message);
    throw err;
  }
};

const answeredAction = (fn: ActionHandler): ActionHandler => async (input: ActionInput, ctx: CommandContext): Promise<ActionResult> => {
  try {
    return await fn(input, ctx);
  } catch (err) {
    if (err instanceof UserError) return { ephemeral: errorReply(err.message) };
    throw err;
  }
};

export function resticCommands(): CommandFamily {
  return {
    command: '/restic',
    summary: 'restic repositories behind VolSync: locks and unlocking',
    verbs: [
      {
        verb: 'locks',
        summary: 'List the locks in the app\'s repository with a verdict each (stale, orphaned, live) and what they block.',
        args: [{ name: 'namespace', kind: 'namespace' }, { name: 'app', kind: 'name' }],
        handler: answered((cmd, ctx) => resticLocks(ctx, cmd.args.namespace!, cmd.args.app!)),
      },
      {
        verb: 'unlock',
        summary: 'Remove stale locks (`restic unlock`) and report what was removed and what remains.',
        args: [{ name: 'namespace', kind: 'namespace' }, { name: 'app', kind: 'name' }],
        flags: [{ name: 'remove-all', help: 'remove every lock, after showing the evidence and an operator\'s confirmation (a second operator when a lock is live)' }],
        mutating: true,
        handler: answered((cmd, ctx) =>
          cmd.flags.has('remove-all') ? requestRemoveAll(ctx, cmd.args.namespace!, cmd.args.app!) : plainUnlock(ctx, cmd.args.namespace!, cmd.args.app!)),
      },
    ],
  };
}

/** The buttons of /restic unlock: confirm or cancel --remove-all, and the VolSync path. */
export function resticActions(deps: ResticCommandDeps = {}): Record<string, ActionHandler> {
  const follow = { ...DEFAULT_VOLSYNC_FOLLOW, ...deps.volsyncFollow };
  return {
    [REMOVE_ALL_ACTION]: answeredAction((input, ctx) => approveRemoveAll(input, ctx, deps.removeAll)),
    [REMOVE_ALL_CANCEL_ACTION]: answeredAction((input, ctx) => cancelRemoveAll(input, ctx)),
    [VOLSYNC_UNLOCK_ACTION]: answeredAction((input, ctx) => approveVolSyncUnlock(input, ctx, follow)),
  };
}
