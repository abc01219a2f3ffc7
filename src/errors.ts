/**
 * Errors that are meant for the person in Slack carry their own one-line message; anything else
 * becomes a generic line, so stack traces and internal details stay in the log.
 */
export class UserError extends Error {
  override name = 'UserError';
}

export function userMessage(err: unknown, fallback: string): string {
  if (err instanceof UserError) return err.message;
  return `${fallback}: an internal error occurred. The details are in the bot's log; try again, and if it persists, report it.`;
}
