/**
 * One Lease per repository, in the source's namespace: every bot action that changes the locks of
 * a repository (plain unlock, --remove-all) runs while holding it, so two of them never overlap,
 * also across replicas. The holder string names the person, so the loser can be told who it is, and
 * carries a nonce per operation: the same person's second operation is another holder, and is refused.
 */
import { hostname } from 'node:os';
import { createHash, randomBytes } from 'node:crypto';
import type { Actor } from '../../src/command/context.ts';
import type { Kube } from '../../src/kube/client.ts';
import { LeaseHeldError, withLease } from '../../src/kube/lease.ts';
import type { LeaseOptions } from '../../src/kube/lease.ts';
import { UserError } from '../../src/errors.ts';
import { escapeMrkdwn } from '../../src/reply.ts';

/** Long enough to survive a slow API call; withLease renews it every third of this while working. */
export const LEASE_SECONDS = 60;

/** backup-bot-restic-<source>, cut with a hash suffix when the source name is too long for a name. */
export function leaseName(source: string): string {
  const name = `backup-bot-restic-${source}`;
  if (name.length <= 253) return name;
  return `${name.slice(0, 240).replace(/[-.]+$/, '')}-${createHash('sha256').update(source).digest('hex').slice(0, 10)}`;
}

/**
 * "slack:U0123ALICE (alice) via backup-bot on <host> #1a2b3c4d": readable in kubectl, parseable for
 * a mention, and unique per call (the nonce): one holder is one operation, never a person.
 */
export function holderFor(actor: Actor, nonce: string = randomBytes(4).toString('hex')): string {
  return `${actor.via}:${actor.id}${actor.name ? ` (${actor.name})` : ''} via backup-bot on ${hostname()} #${nonce}`;
}

/** The holder string as a Slack mention when it names a Slack user. */
export function describeHolder(holder: string): string {
  const m = /^slack:([UW][A-Z0-9]+)\b(.*)$/.exec(holder);
  if (m) return `<@${m[1]}>${escapeMrkdwn(m[2] ?? '')}`;
  return escapeMrkdwn(holder.replace(/^terminal:/, ''));
}

export function repositoryLease(kube: Kube, namespace: string, source: string, actor: Actor): LeaseOptions {
  return {
    kube,
    namespace,
    name: leaseName(source),
    holder: holderFor(actor),
    durationSeconds: LEASE_SECONDS,
    labels: { 'app.kubernetes.io/component': 'restic-unlock' },
  };
}

/** Another operation holds the repository's Lease (also one of the same person's): nothing was done. Branch on the class. */
export class RepositoryLeaseHeldError extends UserError {
  override name = 'RepositoryLeaseHeldError';
  readonly holder: string;
  readonly expiresAt: Date;
  constructor(message: string, holder: string, expiresAt: Date) {
    super(message, 'lease-held');
    this.holder = holder;
    this.expiresAt = expiresAt;
  }
}

/** Runs `work` under the repository's Lease; a held Lease becomes one line naming its holder. */
export async function underRepositoryLease<T>(opts: LeaseOptions, target: string, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  try {
    return await withLease(opts, work);
  } catch (err) {
    if (err instanceof LeaseHeldError) {
      throw new RepositoryLeaseHeldError(
        `Another unlock of \`${target}\` is running: Lease \`${opts.namespace}/${opts.name}\` is held by ${describeHolder(err.holder)} (until ${err.expiresAt.toISOString().slice(11, 19)} UTC unless renewed). Nothing was done; try again when it has finished.`,
        err.holder,
        err.expiresAt,
      );
    }
    throw err;
  }
}
