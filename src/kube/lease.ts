/**
 * Kubernetes Leases (coordination.k8s.io/v1) as locks, with the pitfalls from the Percona
 * restore-lease review handled:
 * - two creators at once: the loser's create fails with AlreadyExists; it re-reads and decides;
 * - update conflicts: every write carries the resourceVersion it read; a 409 means re-read, retry;
 * - expiry: a holder that stops renewing loses the lock after leaseDurationSeconds, and the next
 *   taker records the transition; long work renews in the background (withLease);
 * - release only by the holder: a delete is preconditioned on the resourceVersion we hold;
 * - no re-entry: withLease takes a Lease only when it is free or expired, never because the holder
 *   string is ours (only a renewal, or a leader re-asserting itself, extends our own);
 * - acquireTime/renewTime are MicroTime with six fractional digits (the API server rejects three).
 */
import type { V1Lease } from '@kubernetes/client-node';
import type { Kube } from './client.ts';
import { kubeErrorLine, statusCode } from './client.ts';
import { UserError } from '../errors.ts';

export interface LeaseOptions {
  kube: Kube;
  namespace: string;
  name: string;
  /** Who we are: shown to whoever finds the lock taken ("held by U0123ALICE via backup-bot-7d9f"). */
  holder: string;
  durationSeconds: number;
  labels?: Record<string, string>;
  now?: () => Date;
}

export type AcquireResult =
  | { acquired: true; lease: V1Lease }
  | { acquired: false; holder: string; expiresAt: Date; lease: V1Lease };

/** RFC 3339 with microseconds, the format MicroTime requires. */
export function microTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

function parseTime(v: unknown): Date | undefined {
  if (v instanceof Date) return v;
  if (typeof v === 'string' && v) {
    const d = new Date(v);
    return Number.isNaN(d.getTime()) ? undefined : d;
  }
  return undefined;
}

export function leaseExpiry(lease: V1Lease): Date | undefined {
  const renewed = parseTime(lease.spec?.renewTime) ?? parseTime(lease.spec?.acquireTime);
  const duration = lease.spec?.leaseDurationSeconds;
  if (!renewed || !duration) return undefined;
  return new Date(renewed.getTime() + duration * 1000);
}

function spec(opts: LeaseOptions, now: Date, acquire: boolean, previous?: V1Lease): V1Lease['spec'] {
  // MicroTime is not in client-node's type map, so the string passes through the serializer unchanged.
  const t = microTime(now) as unknown as Date;
  return {
    holderIdentity: opts.holder,
    leaseDurationSeconds: opts.durationSeconds,
    acquireTime: acquire ? t : previous?.spec?.acquireTime,
    renewTime: t,
    leaseTransitions: (previous?.spec?.leaseTransitions ?? 0) + (acquire && previous ? 1 : 0),
  };
}

async function read(opts: LeaseOptions): Promise<V1Lease | undefined> {
  try {
    return await opts.kube.coordination.readNamespacedLease({ name: opts.name, namespace: opts.namespace });
  } catch (err) {
    if (statusCode(err) === 404) return undefined;
    throw new UserError(kubeErrorLine(err, `read Lease ${opts.namespace}/${opts.name}`, opts.kube));
  }
}

/**
 * Takes the lease if it is free, expired or already ours (then it is renewed). Never waits. For a
 * holder that renews its own lease (the leader); an operation that must not run twice uses
 * acquireFreshLease.
 */
export async function tryAcquireLease(opts: LeaseOptions): Promise<AcquireResult> {
  return acquire(opts, true);
}

/** Takes the lease only if it is free or expired: a lease held under our own holder string is held too. */
export async function acquireFreshLease(opts: LeaseOptions): Promise<AcquireResult> {
  return acquire(opts, false);
}

async function acquire(opts: LeaseOptions, renewOwn: boolean): Promise<AcquireResult> {
  const nowFn = opts.now ?? (() => new Date());
  for (let attempt = 0; attempt < 6; attempt++) {
    const now = nowFn();
    const current = await read(opts);
    try {
      if (!current) {
        const lease = await opts.kube.coordination.createNamespacedLease({
          namespace: opts.namespace,
          body: { metadata: { name: opts.name, labels: { 'app.kubernetes.io/managed-by': 'backup-bot', ...opts.labels } }, spec: spec(opts, now, true) },
        });
        return { acquired: true, lease };
      }
      const holder = current.spec?.holderIdentity ?? '';
      const expiry = leaseExpiry(current);
      const mine = renewOwn && holder === opts.holder;
      const free = !holder || !expiry || expiry.getTime() <= now.getTime();
      if (!mine && !free) return { acquired: false, holder, expiresAt: expiry!, lease: current };
      const lease = await opts.kube.coordination.replaceNamespacedLease({
        name: opts.name,
        namespace: opts.namespace,
        body: { ...current, spec: spec(opts, now, !mine, current) },
      });
      return { acquired: true, lease };
    } catch (err) {
      // 409 on create (AlreadyExists: another creator won the race) or on replace (Conflict: it
      // changed since we read it). Either way: read again and decide on the fresh state.
      if (statusCode(err) === 409) continue;
      throw new UserError(kubeErrorLine(err, `take Lease ${opts.namespace}/${opts.name}`, opts.kube));
    }
  }
  throw new UserError(`Lease ${opts.namespace}/${opts.name} kept changing while I tried to take it. Try again.`);
}

/** Renews a lease we hold. Returns false when it is no longer ours (taken over after expiry). */
export async function renewLease(opts: LeaseOptions): Promise<boolean> {
  const r = await acquire(opts, true);
  return r.acquired && (r.lease.spec?.holderIdentity === opts.holder);
}

/** Releases the lease only if we still hold it: the delete is preconditioned on what we read. */
export async function releaseLease(opts: LeaseOptions): Promise<boolean> {
  for (let attempt = 0; attempt < 4; attempt++) {
    const current = await read(opts);
    if (!current || current.spec?.holderIdentity !== opts.holder) return false;
    try {
      await opts.kube.coordination.deleteNamespacedLease({
        name: opts.name,
        namespace: opts.namespace,
        body: { preconditions: { resourceVersion: current.metadata?.resourceVersion } },
      });
      return true;
    } catch (err) {
      const code = statusCode(err);
      if (code === 404) return false;
      if (code === 409) continue;
      throw new UserError(kubeErrorLine(err, `release Lease ${opts.namespace}/${opts.name}`, opts.kube));
    }
  }
  return false;
}

export class LeaseHeldError extends UserError {
  holder: string;
  expiresAt: Date;
  constructor(name: string, holder: string, expiresAt: Date) {
    super(`Another operation holds the lock ${name} (held by ${holder}, until ${expiresAt.toISOString().slice(11, 19)} UTC unless renewed). Wait for it to finish, then try again.`);
    this.holder = holder;
    this.expiresAt = expiresAt;
  }
}

/**
 * Runs `work` while holding the lease, renewing it every third of its duration. If a renewal
 * finds the lease lost, `signal` aborts so the work can stop before doing damage. The lease is
 * released afterwards, also when the work fails. A lease that is held, also under the same holder
 * string, is refused with LeaseHeldError: two works never share one lease (give each its own holder).
 */
export async function withLease<T>(opts: LeaseOptions, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const got = await acquireFreshLease(opts);
  if (!got.acquired) throw new LeaseHeldError(`${opts.namespace}/${opts.name}`, got.holder, got.expiresAt);
  const lost = new AbortController();
  const every = Math.max(1000, (opts.durationSeconds * 1000) / 3);
  let renewing: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    renewing = renewing.then(async () => {
      try {
        if (!(await renewLease(opts))) lost.abort(new UserError(`Lost the lock ${opts.namespace}/${opts.name} while working; stopped.`));
      } catch {
        // A failed renewal is retried on the next tick; the lease outlives one miss (duration/3 cadence).
      }
    });
  }, every);
  try {
    return await work(lost.signal);
  } finally {
    clearInterval(timer);
    await renewing;
    await releaseLease(opts).catch(() => false);
  }
}
