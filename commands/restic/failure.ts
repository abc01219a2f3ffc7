/** A failure → the one line the person sees. restic's and the API's own lines are already free of secrets. */
import { UserError } from '../../src/errors.ts';
import { ResticError } from '../../src/restic/index.ts';

/** The line for a ResticError or a UserError; undefined for anything else (an internal error: log it). */
export function failureLine(err: unknown): string | undefined {
  if (err instanceof ResticError || err instanceof UserError) return err.message;
  return undefined;
}

/** Turns restic's typed errors into UserErrors, so the framework shows their line. */
export async function asUserErrors<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof ResticError) throw new UserError(err.message);
    throw err;
  }
}
