/** The buttons of /backup run, and the action name their confirmations and audit records carry. */
export const RUN_ACTION = 'bb:backup:run';
export const RUN_CANCEL_ACTION = 'bb:backup:run-cancel';
/** The confirmation's action and the audit record's action. */
export const RUN_AUDIT_ACTION = '/backup run';

/** The buttons of /backup verify, and the action name its confirmations and audit records carry. */
export const VERIFY_ACTION = 'bb:backup:verify';
export const VERIFY_CANCEL_ACTION = 'bb:backup:verify-cancel';
export const VERIFY_AUDIT_ACTION = '/backup verify';
