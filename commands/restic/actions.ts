/** The buttons of /restic, and the action names their confirmations and audit records carry. */
export const REMOVE_ALL_ACTION = 'bb:restic:remove-all';
export const REMOVE_ALL_CANCEL_ACTION = 'bb:restic:remove-all-cancel';
export const VOLSYNC_UNLOCK_ACTION = 'bb:restic:volsync-unlock';

export const UNLOCK_AUDIT = '/restic unlock';
export const REMOVE_ALL_AUDIT = '/restic unlock --remove-all';
export const VOLSYNC_UNLOCK_AUDIT = '/restic unlock via VolSync';

/** A confirmation button's value, `<id>.<digest>` (see confirmationValue in remove-all.ts). */
export function parseConfirmationValue(value: string): { id: string; digest: string } {
  const [id = '', digest = ''] = value.split('.');
  return { id, digest };
}
