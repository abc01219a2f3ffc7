/** `/restic`: locks in an app's restic repository, and removing them safely. */
import type { CommandFamily } from '../src/command/registry.ts';

export function resticCommands(): CommandFamily {
  return {
    command: '/restic',
    summary: 'restic repositories behind VolSync: locks and unlocking',
    verbs: [
      {
        verb: 'locks',
        summary: 'List the locks in the app\'s repository with a verdict each (stale, orphaned, live) and what they block.',
        args: [{ name: 'namespace', kind: 'namespace' }, { name: 'app', kind: 'name' }],
      },
      {
        verb: 'unlock',
        summary: 'Remove stale locks (`restic unlock`) and report what was removed and what remains.',
        args: [{ name: 'namespace', kind: 'namespace' }, { name: 'app', kind: 'name' }],
        flags: [{ name: 'remove-all', help: 'remove every lock, after showing the evidence and an operator\'s confirmation (a second operator when a lock is live)' }],
        mutating: true,
      },
    ],
  };
}
