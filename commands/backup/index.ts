/**
 * `/backup`: the state of VolSync backups, and safe actions on them. Declares the verbs and the
 * buttons; each verb's handler is in its own file here (status, doctor, run, window).
 */
import { windowCommand } from './window.ts';
import { BackgroundWork } from '../../src/command/background.ts';
import type { BackupWindowService } from '../../src/backup-window/service.ts';
import type { CommandFamily } from '../../src/command/registry.ts';
import { objectVerb } from '../../src/command/registry.ts';
import type { BackupCache } from '../../src/backup/backup-cache.ts';
import { statusCommand } from './status.ts';
import { doctorCommand } from './doctor.ts';
import type { FollowOptions } from './run.ts';
import { RUN_ACTION, RUN_AUDIT_ACTION, RUN_CANCEL_ACTION, approveRun, cancelRun, requestRun } from './run.ts';

export interface BackupCommandDeps {
  /** The watch cache of a running bot; without it status lists directly. */
  cache?: BackupCache;
  /** How /backup run follows a sync (tests shorten it). */
  follow?: Partial<FollowOptions>;
  /** Where follow-ups run, so the bot's stop() ends them (startBot passes its own). */
  background?: BackgroundWork;
  /** The running backup-window service, once the Slack side has started it; without it /backup window builds its own view. */
  windows?: () => BackupWindowService | undefined;
}

export function backupCommands(deps: BackupCommandDeps = {}): CommandFamily {
  const background = deps.background ?? new BackgroundWork();
  return {
    command: '/backup',
    summary: 'VolSync backups: status, manual runs, health checks and the backup window',
    verbs: [
      {
        verb: 'status',
        summary: 'Backup health: counts, then problems first (overdue, failed, stuck movers, faulted volumes), then healthy sources.',
        args: [{ name: 'namespace', kind: 'namespace', optional: true }, { name: 'name', kind: 'name', optional: true }],
        handler: statusCommand({ cache: deps.cache }),
      },
      objectVerb({
        verb: 'run',
        summary: 'Trigger a manual sync of one ReplicationSource after a confirmation; the result is posted in the thread.',
        nameArg: 'name',
        mutating: true,
        run: (ctx, namespace, name) => requestRun(ctx, namespace, name, { follow: deps.follow }),
      }),
      {
        verb: 'doctor',
        summary: 'The runbooks\' checks as one report: unprotected PVCs, broken repository Secrets, stuck restores, faulted volumes, RollingUpdate lock traps.',
        args: [{ name: 'namespace', kind: 'namespace', optional: true }],
        handler: doctorCommand,
      },
      {
        verb: 'window',
        summary: 'Whether a backup window is open, when the next opens and closes, and the alerts and silences it owns.',
        args: [],
        handler: windowCommand({ windows: deps.windows }),
      },
    ],
    // The buttons of /backup run: confirm and cancel.
    actions: [
      { id: RUN_ACTION, action: RUN_AUDIT_ACTION, mutating: true, needs: { cluster: true }, answers: 'approve', handler: (input, ctx, answer) => approveRun(input, ctx, answer!, { follow: deps.follow, background }) },
      { id: RUN_CANCEL_ACTION, action: RUN_AUDIT_ACTION, mutating: true, answers: 'cancel', handler: (input, ctx, answer) => cancelRun(input, ctx, answer!) },
    ],
  };
}
