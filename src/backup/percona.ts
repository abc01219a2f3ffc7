/**
 * Percona Server for MySQL backups and restores, and the restore lock that makes backups fail
 * (percona-server-mysql-operator K8SPS-686): a restore holds the Lease `restore-lock-<cluster>`
 * in its namespace (holderIdentity = the restore's name) and a backup of that cluster fails while
 * that Lease is active. The review threads' pitfalls are reported rather than assumed away: a
 * Lease left by a finished or deleted restore (stale), and one that expired while its restore is
 * still running (backups are then no longer blocked).
 */
import type { Kube } from '../kube/client.ts';
import { kubeErrorLine } from '../kube/client.ts';
import { duration as humanDuration } from '../text.ts';
import { withTimeout } from './inventory.ts';
import type { Lease, PerconaBackup, PerconaRestore } from './objects.ts';
import { ms, nameOf, namespaceOf } from './objects.ts';

export const restoreLeaseName = (cluster: string): string => `restore-lock-${cluster}`;

const RUNNING = new Set(['New', 'Starting', 'Running']);
const FAILED = new Set(['Error', 'Failed']);
const DONE = new Set(['Succeeded', 'Error', 'Failed']);

export interface RestoreLock {
  namespace: string;
  cluster: string;
  lease: string;
  holder: string;
  /** Unexpired and held by a restore that is still running: backups of the cluster fail. */
  blocking: boolean;
  /** Unexpired, but its holder finished or no longer exists. */
  stale: boolean;
  /** Expired while its holder still runs: backups are no longer kept out. */
  expiredWhileRunning: boolean;
  holderState?: string;
  expiresAt?: number;
}

export interface PerconaReport {
  backups: { total: number; running: PerconaBackup[]; failed: PerconaBackup[]; succeeded: number };
  restores: { total: number; running: PerconaRestore[]; failed: PerconaRestore[]; succeeded: number };
  locks: RestoreLock[];
  /** Leases could not be read (RBAC): said once. */
  leaseNote?: string;
}

export function leaseExpiry(l: Lease): number | undefined {
  const renewed = ms(l.spec?.renewTime) ?? ms(l.spec?.acquireTime);
  const d = l.spec?.leaseDurationSeconds;
  if (renewed === undefined || d === undefined || d === null) return undefined;
  return renewed + d * 1000;
}

export function evaluateLocks(leases: Lease[], restores: PerconaRestore[], backups: PerconaBackup[], now: number): RestoreLock[] {
  const clusters = new Map<string, { namespace: string; cluster: string }>();
  for (const o of [...restores, ...backups]) {
    const cluster = o.spec?.clusterName;
    if (cluster) clusters.set(`${namespaceOf(o)}/${restoreLeaseName(cluster)}`, { namespace: namespaceOf(o), cluster });
  }
  const restoreByKey = new Map(restores.map((r) => [`${namespaceOf(r)}/${nameOf(r)}`, r]));
  const locks: RestoreLock[] = [];
  for (const l of leases) {
    const k = `${namespaceOf(l)}/${nameOf(l)}`;
    const c = clusters.get(k);
    const holder = l.spec?.holderIdentity;
    if (!c || !holder) continue;
    const expiresAt = leaseExpiry(l);
    const unexpired = expiresAt === undefined || expiresAt > now;
    const restore = restoreByKey.get(`${c.namespace}/${holder}`);
    const holderState = restore?.status?.state;
    const holderRunning = restore !== undefined && !DONE.has(holderState ?? '');
    locks.push({
      namespace: c.namespace,
      cluster: c.cluster,
      lease: nameOf(l),
      holder,
      blocking: unexpired && holderRunning,
      stale: unexpired && !holderRunning,
      expiredWhileRunning: !unexpired && holderRunning,
      holderState: restore ? holderState ?? 'New' : undefined,
      expiresAt,
    });
  }
  return locks;
}

/** Leases named restore-lock-*: one cluster-wide list (or one in the namespace). */
export async function listRestoreLeases(kube: Kube, namespace?: string): Promise<{ leases: Lease[]; note?: string }> {
  try {
    const res = await withTimeout(namespace
      ? kube.coordination.listNamespacedLease({ namespace })
      : kube.coordination.listLeaseForAllNamespaces(), 15_000, 'list Leases');
    return { leases: ((res.items ?? []) as unknown as Lease[]).filter((l) => nameOf(l).startsWith('restore-lock-')) };
  } catch (err) {
    return { leases: [], note: kubeErrorLine(err, 'read restore Leases (Percona restore locks not checked)', kube) };
  }
}

export function perconaReport(backups: PerconaBackup[], restores: PerconaRestore[], leases: Lease[], now: number): PerconaReport {
  const state = (o: { status?: { state?: string } }) => o.status?.state ?? 'New';
  return {
    backups: {
      total: backups.length,
      running: backups.filter((b) => RUNNING.has(state(b))),
      failed: backups.filter((b) => FAILED.has(state(b))),
      succeeded: backups.filter((b) => state(b) === 'Succeeded').length,
    },
    restores: {
      total: restores.length,
      running: restores.filter((r) => RUNNING.has(state(r))),
      failed: restores.filter((r) => FAILED.has(state(r))),
      succeeded: restores.filter((r) => state(r) === 'Succeeded').length,
    },
    locks: evaluateLocks(leases, restores, backups, now),
  };
}

export function describeLock(l: RestoreLock, now: number): string {
  const lease = `\`${l.namespace}/${l.lease}\``;
  const expiry = l.expiresAt === undefined ? 'no expiry set' : l.expiresAt > now ? `expires in ${humanDuration(l.expiresAt - now)}` : `expired ${humanDuration(now - l.expiresAt)} ago`;
  if (l.blocking) return `:lock: Restore \`${l.holder}\` (${l.holderState}) holds Lease ${lease} (${expiry}): backups of cluster \`${l.cluster}\` fail until it finishes.`;
  if (l.stale) {
    return `:warning: Stale restore lock ${lease} (${expiry}): its holder \`${l.holder}\` ${l.holderState ? `is ${l.holderState}` : 'no longer exists'}, yet backups of \`${l.cluster}\` still fail until it expires. If nothing is restoring: \`kubectl delete lease ${l.lease} -n ${l.namespace}\``;
  }
  if (l.expiredWhileRunning) return `:warning: Lease ${lease} expired (${expiry}) while restore \`${l.holder}\` is still ${l.holderState}: backups of \`${l.cluster}\` are no longer kept out and may run during the restore.`;
  return `Lease ${lease} held by \`${l.holder}\` (${expiry}).`;
}
