/**
 * Whether a ReplicationSource's mover runs now: the one answer every reply gives (status, /restic
 * locks, /backup run, the backup alert diagnosis).
 *
 * VolSync keeps `Synchronizing` True (SyncInProgress) from the start of a sync until it succeeds,
 * also while it retries a failed mover: the condition alone does not say that a restic runs. Only
 * a mover pod does. So a mover pod (Running, else Pending) wins; a sync in progress without one is
 * "VolSync is retrying; no mover pod runs" (after a failure) or a sync not started yet; else idle.
 */
import type { ReplicationSource } from './source.ts';
import type { MoverPod, PodLike } from './mover-pods.ts';
import { activeMovers, jobNameOf, sourceJobName } from './mover-pods.ts';
import { relative } from '../text.ts';
import { inlineCode, untrustedLine } from '../reply.ts';

export type MoverState =
  /** A mover pod of the source is Running or Pending (others: how many more are). */
  | { kind: 'mover'; pod: MoverPod; others: number }
  /** VolSync says a sync is in progress, and no mover pod of the source runs. */
  | { kind: 'no-pod'; retrying: boolean; since?: Date; lastResult?: string; failedPods: number }
  | { kind: 'idle' };

/** The mover Job's counts, when the caller has it (failed pods say VolSync is retrying). */
export interface JobLike {
  status?: { failed?: number };
}

const ms = (t: string | Date | null | undefined): number | undefined => {
  if (t === undefined || t === null || t === '') return undefined;
  const v = t instanceof Date ? t.getTime() : Date.parse(t);
  return Number.isNaN(v) ? undefined : v;
};

/**
 * From the source and the pods known for it (any pods: those of its mover Job are picked by the
 * Job controller's label), and its mover Job when known.
 */
export function moverState(rs: ReplicationSource, pods: readonly PodLike[], job?: JobLike): MoverState {
  const name = rs.metadata?.name ?? '';
  const namespace = rs.metadata?.namespace;
  const mine = pods.filter((p) => !namespace || !p.metadata?.namespace || p.metadata.namespace === namespace);
  const active = activeMovers(mine, name);
  if (active.length) {
    // Running before Pending; the newest of each first.
    const sorted = [...active].sort((a, b) => Number(b.phase === 'Running') - Number(a.phase === 'Running') || (b.since?.getTime() ?? 0) - (a.since?.getTime() ?? 0));
    return { kind: 'mover', pod: sorted[0]!, others: sorted.length - 1 };
  }
  const sync = rs.status?.conditions?.find((c) => c.type === 'Synchronizing');
  if (sync?.status !== 'True' || sync.reason !== 'SyncInProgress') return { kind: 'idle' };
  const jobName = sourceJobName(name);
  const failedPods = Math.max(job?.status?.failed ?? 0, mine.filter((p) => jobNameOf(p) === jobName && p.status?.phase === 'Failed').length);
  const lastResult = rs.status?.latestMoverStatus?.result;
  const since = ms(sync.lastTransitionTime) ?? ms(rs.status?.lastSyncStartTime);
  return {
    kind: 'no-pod',
    retrying: lastResult === 'Failed' || failedPods > 0,
    ...(since !== undefined ? { since: new Date(since) } : {}),
    ...(lastResult ? { lastResult } : {}),
    failedPods,
  };
}

/**
 * The one sentence (mrkdwn) about it: "A sync is running: mover pod `…` Running since 3m ago.",
 * "VolSync is retrying; no mover pod runs (…)." or "No mover runs now."
 */
export function moverStateLine(s: MoverState, now: Date | number): string {
  const at = typeof now === 'number' ? now : now.getTime();
  switch (s.kind) {
    case 'mover': {
      const p = s.pod;
      const verb = p.phase === 'Running' ? 'A sync is running' : 'A sync is starting';
      const since = p.since ? ` since ${relative(p.since.getTime(), at)}` : '';
      const more = s.others ? ` (and ${s.others} more mover ${s.others === 1 ? 'pod' : 'pods'})` : '';
      return `${verb}: mover pod ${inlineCode(p.name, 120)} ${untrustedLine(p.phase, 40)}${since}${more}.`;
    }
    case 'no-pod': {
      const since = s.since ? `sync in progress since ${relative(s.since.getTime(), at)}` : 'sync in progress';
      if (!s.retrying) return `VolSync is starting a sync; no mover pod runs yet (${since}).`;
      const why = [since, s.lastResult ? `last result ${untrustedLine(s.lastResult, 40)}` : '', s.failedPods ? `${s.failedPods} failed mover ${s.failedPods === 1 ? 'pod' : 'pods'}` : ''].filter(Boolean);
      return `VolSync is retrying; no mover pod runs (${why.join(', ')}).`;
    }
    case 'idle':
      return 'No mover runs now.';
  }
}

