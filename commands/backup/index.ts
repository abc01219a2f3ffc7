/**
 * `/backup`: the state of VolSync backups, and safe actions on them. Declares the verbs and the
 * buttons; each verb's handler is in its own file here (status, doctor, run, window), imported
 * when a command first needs it: an idle bot does not hold their code.
 */
import { BackgroundWork } from '../../src/command/background.ts';
import type { BackupWindowService } from '../../src/backup-window/service.ts';
import type { CommandFamily } from '../../src/command/registry.ts';
import { objectVerb } from '../../src/command/registry.ts';
import type { BackupCache } from '../../src/backup/backup-cache.ts';
import type { IncidentStore } from '../../src/backup/incident-store.ts';
import type { FollowOptions } from './run.ts';
import { RUN_ACTION, RUN_AUDIT_ACTION, RUN_CANCEL_ACTION } from './actions.ts';
import { lazy } from '../../src/command/lazy.ts';

const status = lazy(() => import('./status.ts'));
const runVerb = lazy(() => import('./run.ts'));
const doctor = lazy(() => import('./doctor.ts'));
const windowVerb = lazy(() => import('./window.ts'));
const incidents = lazy(() => import('./incidents.ts'));

export interface BackupCommandDeps {
  /** The watch cache of a running bot; without it status lists directly. */
  cache?: BackupCache;
  /** How /backup run follows a sync (tests shorten it). */
  follow?: Partial<FollowOptions>;
  /** Where follow-ups run, so the bot's stop() ends them (startBot passes its own). */
  background?: BackgroundWork;
  /** The running backup-window service, once the Slack side has started it; without it /backup window builds its own view. */
  windows?: () => BackupWindowService | undefined;
  /** The backup watch's incidents, when the watch runs; without it /backup incidents works out the problems from the cluster. */
  incidents?: () => IncidentStore | undefined;
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
        button: true,
        handler: async (cmd, ctx) => (await status()).statusCommand({ cache: deps.cache })(cmd, ctx),
      },
      objectVerb({
        verb: 'run',
        summary: 'Trigger a manual sync of one ReplicationSource after a confirmation; the result is posted in the thread.',
        nameArg: 'name',
        mutating: true,
        button: true,
        run: async (ctx, namespace, name) => (await runVerb()).requestRun(ctx, namespace, name, { follow: deps.follow }),
      }),
      {
        verb: 'doctor',
        summary: 'The runbooks\' checks as one report: unprotected PVCs, broken repository Secrets, stuck restores, faulted volumes, RollingUpdate lock traps.',
        args: [{ name: 'namespace', kind: 'namespace', optional: true }],
        handler: async (cmd, ctx) => (await doctor()).doctorCommand(cmd, ctx),
      },
      {
        verb: 'window',
        summary: 'Whether a backup window is open, when the next opens and closes, and the alerts and silences it owns.',
        args: [],
        handler: async (cmd, ctx) => (await windowVerb()).windowCommand({ windows: deps.windows })(cmd, ctx),
      },
      {
        verb: 'incidents',
        summary: 'The open backup incidents the watch follows: source, problem, since when, and a link to each thread.',
        args: [],
        handler: async (cmd, ctx) => (await incidents()).incidentsCommand({ cache: deps.cache, store: deps.incidents?.() })(cmd, ctx),
      },
    ],
    // The buttons of /backup run: confirm and cancel.
    actions: [
      { id: RUN_ACTION, action: RUN_AUDIT_ACTION, mutating: true, needs: { cluster: true }, answers: 'approve', handler: async (input, ctx, answer) => (await runVerb()).approveRun(input, ctx, answer!, { follow: deps.follow, background }) },
      { id: RUN_CANCEL_ACTION, action: RUN_AUDIT_ACTION, mutating: true, answers: 'cancel', handler: async (input, ctx, answer) => (await runVerb()).cancelRun(input, ctx, answer!) },
    ],
  };
}
