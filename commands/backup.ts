/** `/backup`: the state of VolSync backups, and safe actions on them. */
import type { CommandFamily } from '../src/command/registry.ts';

export function backupCommands(): CommandFamily {
  return {
    command: '/backup',
    summary: 'VolSync backups: status, manual runs, health checks and the backup window',
    verbs: [
      {
        verb: 'status',
        summary: 'Backup health: counts, then problems first (overdue, failed, stuck movers, faulted volumes), then healthy sources.',
        args: [{ name: 'namespace', kind: 'namespace', optional: true }, { name: 'name', kind: 'name', optional: true }],
      },
      {
        verb: 'run',
        summary: 'Trigger a manual sync of one ReplicationSource after a confirmation; the result is posted in the thread.',
        args: [{ name: 'namespace', kind: 'namespace' }, { name: 'name', kind: 'name' }],
        mutating: true,
      },
      {
        verb: 'doctor',
        summary: 'The runbooks\' checks as one report: unprotected PVCs, broken repository Secrets, stuck restores, faulted volumes, RollingUpdate lock traps.',
        args: [{ name: 'namespace', kind: 'namespace', optional: true }],
      },
      {
        verb: 'window',
        summary: 'Whether a backup window is open, when the next opens and closes, and the alerts and silences it owns.',
        args: [],
      },
    ],
  };
}
