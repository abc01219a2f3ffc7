/**
 * What an operator needs to see before a lock is removed: every lock with its verdict, and the
 * mover pods that use the repository right now. Pods are listed once per request: the namespace of
 * the source (its movers, and the pods named in its locks), and VolSync's mover pods in every
 * namespace (a restore elsewhere may use the same repository).
 */
import { createHash } from 'node:crypto';
import type { V1Pod } from '@kubernetes/client-node';
import type { Kube } from '../../src/kube/client.ts';
import { VOLSYNC, kubeErrorLine } from '../../src/kube/client.ts';
import { activeMovers, VOLSYNC_MOVER_SELECTOR } from '../../src/volsync/mover-pods.ts';
import type { MoverPod } from '../../src/volsync/mover-pods.ts';
import { UserError } from '../../src/errors.ts';
import { listLocks, localHostFacts, podHostname, podPhaseLookup, verdictFor } from '../../src/restic/index.ts';
import type { HostFacts, LockVerdict, ResticLock, ResticTarget, RunResticOptions } from '../../src/restic/index.ts';
import type { ReplicationSource } from '../../src/volsync/source.ts';
import type { MoverState } from '../../src/volsync/mover-state.ts';
import { moverState } from '../../src/volsync/mover-state.ts';

export interface LockEvidence {
  lock: ResticLock;
  verdict: LockVerdict;
}

/** VolSync's mover naming and the mover pod type live in src/volsync/mover-pods.ts. */
export { activeMovers, type MoverPod };

export interface Evidence {
  at: Date;
  locks: LockEvidence[];
  /** Mover pods of this source, and of destinations restoring from the same Secret, that are Running or Pending. */
  movers: MoverPod[];
  /** Whether the source's own mover runs, or VolSync retries it with no mover pod (src/volsync/mover-state.ts). */
  source: MoverState;
  facts: HostFacts;
}

export async function listPods(kube: Kube, namespace: string): Promise<V1Pod[]> {
  try {
    return (await kube.core.listNamespacedPod({ namespace })).items ?? [];
  } catch (err) {
    throw new UserError(kubeErrorLine(err, `list pods in ${namespace}`, kube));
  }
}

/** VolSync's mover pods in every namespace, by the label VolSync puts on everything it creates; fresh, not cached. */
export async function listMoverPodsEverywhere(kube: Kube): Promise<V1Pod[]> {
  try {
    return (await kube.core.listPodForAllNamespaces({ labelSelector: VOLSYNC_MOVER_SELECTOR })).items ?? [];
  } catch (err) {
    throw new UserError(kubeErrorLine(err, 'list VolSync mover pods in all namespaces', kube));
  }
}

/**
 * Pods anywhere in the cluster that a lock's host names and that have not finished: a restic there
 * may still hold the lock, whatever the evidence said. A pod being deleted counts until it is gone
 * (its container runs through the grace period).
 */
export function podsHoldingLocks(pods: readonly V1Pod[], locks: ReadonlyArray<{ hostname: string }>): Array<{ namespace: string; name: string; phase: string }> {
  const hosts = new Set(locks.map((l) => l.hostname));
  return pods
    .filter((p) => hosts.has(podHostname({ name: p.metadata?.name ?? '', hostname: p.spec?.hostname })))
    .map((p) => ({ namespace: p.metadata?.namespace ?? '', name: p.metadata?.name ?? '', phase: p.status?.phase ?? 'Unknown' }))
    .filter((p) => p.phase !== 'Succeeded' && p.phase !== 'Failed')
    .sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
}

/** Names of ReplicationDestinations in the namespace that restore from `secretName` (their movers use the same repository). */
export async function destinationsUsing(kube: Kube, namespace: string, secretName: string): Promise<string[]> {
  try {
    const res = (await kube.custom.listNamespacedCustomObject({ group: VOLSYNC.group, version: VOLSYNC.version, plural: VOLSYNC.destinations, namespace })) as {
      items?: Array<{ metadata?: { name?: string }; spec?: { restic?: { repository?: string } } }>;
    };
    return (res.items ?? []).filter((d) => d.spec?.restic?.repository === secretName).map((d) => d.metadata?.name ?? '').filter(Boolean);
  } catch {
    // No ReplicationDestination CRD, no right to list them, or the API server is busy: the source's
    // own movers still count, and the verdicts of the locks do not depend on this.
    return [];
  }
}

/** Facts for the verdicts: this host's processes, and the phase of each pod by the hostname it gives its containers. */
export function factsFrom(pods: readonly V1Pod[]): HostFacts {
  return localHostFacts(
    podPhaseLookup(pods.map((p) => ({ name: p.metadata?.name ?? '', hostname: p.spec?.hostname, phase: p.status?.phase }))),
  );
}

/** Every lock with its verdict, and the active movers, from one pod list. */
export async function gatherEvidence(
  kube: Kube,
  source: ReplicationSource,
  target: ResticTarget,
  secretName: string,
  restic: RunResticOptions,
  now: () => Date,
): Promise<Evidence> {
  const namespace = source.metadata?.namespace ?? '';
  const name = source.metadata?.name ?? '';
  const [pods, elsewhere, destinations, locks] = await Promise.all([
    listPods(kube, namespace),
    // Only ever makes a verdict more careful (a pod of that name runs elsewhere); without it the
    // verdicts still hold, because absence alone proves nothing. The execution step asks again, strictly.
    listMoverPodsEverywhere(kube).catch(() => [] as V1Pod[]),
    destinationsUsing(kube, namespace, secretName),
    listLocks(target, restic),
  ]);
  const facts = factsFrom([...pods, ...elsewhere]);
  const at = now();
  return {
    at,
    locks: locks.map((lock) => ({ lock, verdict: verdictFor(lock, at, facts) })),
    movers: activeMovers(pods, name, destinations),
    source: moverState(source, pods),
    facts,
  };
}

/** Why a second operator must approve removing every lock, or undefined. */
export function secondApproverReason(evidence: Pick<Evidence, 'locks' | 'movers'>): string | undefined {
  const live = evidence.locks.filter((l) => l.verdict.verdict === 'live');
  const unknown = evidence.locks.filter((l) => l.verdict.verdict === 'unknown');
  const reasons: string[] = [];
  if (live.length) reasons.push(`${live.length === 1 ? 'lock' : 'locks'} ${live.map((l) => `\`${l.lock.shortId}\``).join(', ')} ${live.length === 1 ? 'is' : 'are'} live`);
  if (unknown.length) {
    reasons.push(`${unknown.length === 1 ? 'lock' : 'locks'} ${unknown.map((l) => `\`${l.lock.shortId}\``).join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not provably dead (no mover pod of that name is here, but a restic elsewhere may still refresh ${unknown.length === 1 ? 'it' : 'them'})`);
  }
  if (evidence.movers.length) reasons.push(`mover pod ${evidence.movers.map((m) => `\`${m.name}\` (${m.phase})`).join(', ')} ${evidence.movers.length === 1 ? 'is' : 'are'} active`);
  return reasons.length ? reasons.join(' and ') : undefined;
}

/**
 * Binds a confirmation to what was shown: the repository (source UID and Secret), who asked, and
 * the exact set of lock IDs. Any difference at execution time means the evidence is out of date.
 */
export function lockDigest(input: { sourceUid: string; namespace: string; secretName: string; requester: string; lockIds: readonly string[] }): string {
  const canonical = JSON.stringify({
    source: input.sourceUid,
    repository: `${input.namespace}/${input.secretName}`,
    requester: input.requester,
    locks: [...input.lockIds].sort(),
  });
  return createHash('sha256').update(canonical).digest('hex');
}
