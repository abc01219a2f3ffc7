/** The buttons of /restic, and the action names their confirmations and audit records carry. */
import type { Button } from '../../src/reply.ts';
import { commandButton } from '../../src/command/command-button.ts';

export const REMOVE_ALL_ACTION = 'bb:restic:remove-all';
export const REMOVE_ALL_CANCEL_ACTION = 'bb:restic:remove-all-cancel';
export const VOLSYNC_UNLOCK_ACTION = 'bb:restic:volsync-unlock';

export const UNLOCK_AUDIT = '/restic unlock';
export const REMOVE_ALL_AUDIT = '/restic unlock --remove-all';
export const VOLSYNC_UNLOCK_AUDIT = '/restic unlock via VolSync';

/**
 * The safe next steps for a locked repository, as buttons that run the commands themselves (with
 * their operator rules): plain `restic unlock` (stale locks only), and `--remove-all`, which
 * shows the evidence and asks for a confirmation (and a second operator when a lock is live).
 */
export function lockButtons(namespace: string, app: string): Button[] {
  return [
    commandButton('Unlock stale locks', '/restic', `unlock ${namespace} ${app}`, { style: 'primary' }),
    commandButton('Remove all locks…', '/restic', `unlock ${namespace} ${app} --remove-all`, { style: 'danger' }),
  ];
}

/** A confirmation button's value, `<id>.<digest>` (see confirmationValue in remove-all.ts). */
export function parseConfirmationValue(value: string): { id: string; digest: string } {
  const [id = '', digest = ''] = value.split('.');
  return { id, digest };
}
