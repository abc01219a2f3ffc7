/**
 * Whether a backup is actually running: VolSync mover pods, found cluster-wide with one request by
 * the label VolSync puts on everything it creates. This is the evidence behind "known transient"
 * (the crash coincides with backup I/O), not a guess from the clock.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { jobNameOf, parseMoverJob } from '../volsync/mover-pods.ts';
import type { MoverPodSource } from '../volsync/mover-pods.ts';


export interface RunningMover {
  namespace: string;
  pod: string;
  /** "backup of media/plex" / "restore of media/plex" when the mover's Job name says so. */
  what: string;
  since?: Date;
}

export interface MoverEvidence {
  checkedAt: Date;
  running: RunningMover[];
  /** Movers created but not running yet (Pending, ContainerCreating). */
  pending: number;
  /** Why the check failed, when it did. */
  error?: string;
}

export interface MoverSource {
  movers(now: Date): Promise<MoverEvidence>;
}

function toDate(v: Date | string | undefined): Date | undefined {
  if (v === undefined) return undefined;
  const d = v instanceof Date ? v : new Date(v);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** What the mover's Job name says it does (src/volsync/mover-pods.ts knows the naming). */
function describe(pod: V1Pod): string {
  const ns = pod.metadata?.namespace ?? '?';
  const job = pod.metadata?.ownerReferences?.find((o) => o.kind === 'Job')?.name ?? jobNameOf(pod);
  const m = job ? parseMoverJob(job) : undefined;
  if (m) return `${m.kind === 'source' ? 'backup' : 'restore'} of ${ns}/${m.owner}`;
  return `VolSync mover ${ns}/${pod.metadata?.name ?? '?'}`;
}

export function moverEvidence(pods: readonly V1Pod[], checkedAt: Date): MoverEvidence {
  const live = pods.filter((p) => !p.metadata?.deletionTimestamp);
  const running = live
    .filter((p) => p.status?.phase === 'Running')
    .map((p): RunningMover => ({
      namespace: p.metadata?.namespace ?? '?',
      pod: p.metadata?.name ?? '?',
      what: describe(p),
      since: toDate(p.status?.startTime) ?? toDate(p.metadata?.creationTimestamp),
    }))
    .sort((a, b) => (a.since?.getTime() ?? 0) - (b.since?.getTime() ?? 0));
  return { checkedAt, running, pending: live.filter((p) => (p.status?.phase ?? 'Pending') === 'Pending').length };
}

/** Movers from the bot's one mover lookup (src/volsync/mover-pods.ts: one cached, bounded request). */
export function kubeMoverSource(pods: MoverPodSource): MoverSource {
  return {
    async movers(now: Date): Promise<MoverEvidence> {
      const list = await pods(now);
      return list.error ? { checkedAt: now, running: [], pending: 0, error: list.error } : moverEvidence(list.pods, now);
    },
  };
}
