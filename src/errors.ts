/**
 * Errors that are meant for the person in Slack carry their own one-line message and a code;
 * anything else becomes a generic line, so stack traces and internal details stay in the log.
 * A UserError is always an answer (the framework turns it into the reply, never an error log);
 * callers that must tell one kind from another branch on `code`, never on the message text.
 */
export type UserErrorCode =
  /** Someone else's operation holds the Lease this one needs. */
  | 'lease-held'
  /** The object asked for does not exist (no source, no Secret, no namespace). */
  | 'not-found'
  /** The name matches several objects: the message lists them. */
  | 'ambiguous'
  /** No Kubernetes cluster is configured. */
  | 'no-cluster'
  /** The person may not do this. */
  | 'denied'
  /** The confirmation (or button) came too late. */
  | 'expired'
  /** A confirmation that is unknown, altered, already answered or answered twice by one person. */
  | 'invalid'
  /** The object changed meanwhile; trying again may work. */
  | 'conflict'
  /** Anything else the person can read and act on (an API or restic refusal, a missing setting). */
  | 'failed';

export class UserError extends Error {
  override name = 'UserError';
  readonly code: UserErrorCode;

  constructor(message: string, code: UserErrorCode = 'failed') {
    super(message);
    this.code = code;
  }
}

export const NO_CLUSTER = 'No Kubernetes cluster is configured: set KUBECONFIG (or run the bot in a pod with a service account), or run `npm run demo` for the local sample cluster.';

export function isUserError(err: unknown, code?: UserErrorCode): err is UserError {
  return err instanceof UserError && (code === undefined || err.code === code);
}

export function userMessage(err: unknown, fallback: string): string {
  if (err instanceof UserError) return err.message;
  return `${fallback}: an internal error occurred. The details are in the bot's log; try again, and if it persists, report it.`;
}
