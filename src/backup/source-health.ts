/**
 * The verdict on one ReplicationSource: one state for the counts (failing, overdue, running,
 * paused, healthy) and every cause found, each in words an operator can act on. Pure: it reads an
 * Inventory and a clock, so it is tested without a cluster.
 */
import { cronSchedule } from './cron-schedule.ts';
import { duration as humanDuration, relative } from '../text.ts';
import type { Inventory } from './inventory.ts';
import type { Job, LonghornVolume, Pod, Pvc, ReplicationSource } from './objects.ts';
import { condition, jobNameOf, key, ms, nameOf, namespaceOf, rfc3339, sourceJobName } from './objects.ts';
import { parseGoDuration } from '../restic/go-duration.ts';
import { inlineCode, untrustedLine } from '../reply.ts';
import type { MoverState } from '../volsync/mover-state.ts';
import { moverState } from '../volsync/mover-state.ts';

export type SourceState = 'failing' | 'overdue' | 'running' | 'paused' | 'healthy';
export const STATE_ORDER: SourceState[] = ['failing', 'overdue', 'running', 'paused', 'healthy'];

export type CauseKind = 'failed' | 'sync-error' | 'overdue' | 'next-sync-past' | 'mover-stuck' | 'mover-failed' | 'job-backoff' | 'volume-faulted' | 'pvc-missing';

export interface Cause {
  kind: CauseKind;
  text: string;
  /** A follow-up command for the operator (already formatted as code). */
  hint?: string;
}

export interface SourceHealth {
  namespace: string;
  name: string;
  source: ReplicationSource;
  state: SourceState;
  causes: Cause[];
  schedule?: string;
  /** The schedule could not be understood (then overdue is judged by nextSyncTime only). */
  scheduleInvalid?: boolean;
  lastSync?: number;
  lastSyncStart?: number;
  duration?: string;
  nextSync?: number;
  result?: string;
  /** Tail of latestMoverStatus.logs when the last run failed. */
  logTail?: string;
  running: boolean;
  /** When the running sync started (Synchronizing condition or mover pod). */
  runningSince?: number;
  /** Whether a mover pod runs now, or VolSync retries without one: the one truth (src/volsync/mover-state.ts). */
  mover: MoverState;
  paused: boolean;
  /** spec.trigger.manual when it differs from status.lastManualSync. */
  manualPending?: string;
  pvcName?: string;
  pvc?: Pvc;
  volumeName?: string;
  volume?: LonghornVolume;
  job?: Job;
  pods: Pod[];
  /** Pods pending for longer than STUCK_AFTER_MS: their events explain why. */
  stuckPods: Pod[];
}

/** A mover pod still Pending after this long is stuck rather than starting. */
export const STUCK_AFTER_MS = 5 * 60_000;
const MIN_GRACE_MS = 10 * 60_000;
const LOG_TAIL_LINES = 12;

export interface Index {
  podsByJob: Map<string, Pod[]>;
  jobs: Map<string, Job>;
  pvcs: Map<string, Pvc>;
  volumes?: Map<string, LonghornVolume>;
}

export function indexInventory(inv: Inventory): Index {
  const podsByJob = new Map<string, Pod[]>();
  for (const p of inv.pods) {
    const job = jobNameOf(p);
    if (!job) continue;
    const k = `${namespaceOf(p)}/${job}`;
    const list = podsByJob.get(k);
    if (list) list.push(p);
    else podsByJob.set(k, [p]);
  }
  return {
    podsByJob,
    jobs: new Map(inv.jobs.map((j) => [key(j), j])),
    pvcs: new Map(inv.pvcs.map((p) => [key(p), p])),
    volumes: inv.volumes && new Map(inv.volumes.map((v) => [nameOf(v), v])),
  };
}

export function logTail(logs: string | undefined, lines = LOG_TAIL_LINES): string | undefined {
  if (!logs?.trim()) return undefined;
  return logs.trimEnd().split('\n').slice(-lines).join('\n');
}

/** "Pending (ContainerCreating)", "Failed (exit 1, Error)", "Running". */
export function podPhase(p: Pod): string {
  const phase = p.status?.phase ?? 'Unknown';
  const cs = [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])];
  const waiting = cs.find((c) => c.state?.waiting?.reason)?.state?.waiting?.reason;
  if (phase === 'Pending') {
    if (waiting) return `Pending (${waiting})`;
    const sched = condition(p.status?.conditions, 'PodScheduled');
    if (sched?.status === 'False') return `Pending (${sched.reason ?? 'Unschedulable'})`;
    return 'Pending';
  }
  if (phase === 'Failed') {
    const t = cs.find((c) => c.state?.terminated)?.state?.terminated;
    if (t) return `Failed (exit ${t.exitCode ?? '?'}${t.reason ? `, ${t.reason}` : ''})`;
    return p.status?.reason ? `Failed (${p.status.reason})` : 'Failed';
  }
  return phase;
}

/** When a pod started waiting: status.startTime when the kubelet set it, else creation. */
export function podSince(p: Pod): number | undefined {
  return ms(p.status?.startTime) ?? ms(p.metadata?.creationTimestamp);
}

export function isStuck(p: Pod, now: number): boolean {
  if (p.status?.phase !== 'Pending' && p.status?.phase !== undefined) return false;
  if (p.metadata?.deletionTimestamp) return false;
  const since = podSince(p);
  return since !== undefined && now - since >= STUCK_AFTER_MS;
}

/** The reason a pending pod gives without events: unschedulable message or a waiting container's message. */
export function podWaitReason(p: Pod): string | undefined {
  const sched = condition(p.status?.conditions, 'PodScheduled');
  if (sched?.status === 'False' && sched.message) return sched.message;
  const cs = [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])];
  const w = cs.find((c) => c.state?.waiting?.message)?.state?.waiting;
  return w?.message ? `${w.reason ? `${w.reason}: ` : ''}${w.message}` : undefined;
}

function lockHint(logs: string | undefined, ns: string, name: string): string | undefined {
  if (!logs) return undefined;
  if (/repository is already locked|unable to create lock|repo already locked/i.test(logs)) {
    return `A restic lock blocks it: \`/restic locks ${ns} ${name}\` shows who holds it.`;
  }
  return undefined;
}

/** Counts scheduled runs in (from, to], up to `cap`. */
function runsBetween(next: (t: number) => number | undefined, from: number, to: number, cap = 999): number {
  let n = 0;
  for (let t = next(from); t !== undefined && t <= to && n < cap; t = next(t)) n++;
  return n;
}

export function evaluateSource(rs: ReplicationSource, ix: Index, now: number): SourceHealth {
  const namespace = namespaceOf(rs);
  const name = nameOf(rs);
  const spec = rs.spec ?? {};
  const status = rs.status ?? {};
  const causes: Cause[] = [];
  const schedule = spec.trigger?.schedule?.trim() || undefined;
  const cron = schedule ? cronSchedule(schedule) : undefined;
  const paused = spec.paused === true;
  const lastSync = ms(status.lastSyncTime);
  const lastSyncStart = ms(status.lastSyncStartTime);
  const nextSync = ms(status.nextSyncTime);
  const result = status.latestMoverStatus?.result;
  const sync = condition(status.conditions, 'Synchronizing');
  const jobName = sourceJobName(name);
  const pods = [...(ix.podsByJob.get(`${namespace}/${jobName}`) ?? [])].sort((a, b) => (podSince(b) ?? 0) - (podSince(a) ?? 0));
  const job = ix.jobs.get(`${namespace}/${jobName}`);
  const pvcName = spec.sourcePVC;
  const pvc = pvcName ? ix.pvcs.get(`${namespace}/${pvcName}`) : undefined;
  const volumeName = pvc?.spec?.volumeName;
  const volume = volumeName ? ix.volumes?.get(volumeName) : undefined;

  const runningPod = pods.find((p) => p.status?.phase === 'Running');
  const syncing = sync?.status === 'True' && sync.reason === 'SyncInProgress';
  const running = syncing || runningPod !== undefined;
  const runningSince = syncing ? ms(sync?.lastTransitionTime) ?? lastSyncStart : podSince(runningPod ?? {});
  const mover = moverState(rs, pods, job);

  let tail: string | undefined;
  if (result === 'Failed') {
    tail = logTail(status.latestMoverStatus?.logs);
    causes.push({ kind: 'failed', text: `Last mover run *Failed*${lastSyncStart ? ` (sync started ${relative(lastSyncStart, now)})` : ''}.`, hint: lockHint(status.latestMoverStatus?.logs, namespace, name) });
  }
  if (sync?.reason === 'Error') {
    causes.push({ kind: 'sync-error', text: `VolSync reports an error: ${sync.message || 'no message'}` });
  }

  const stuckPods = pods.filter((p) => isStuck(p, now));
  for (const p of stuckPods) {
    const since = podSince(p);
    causes.push({ kind: 'mover-stuck', text: `Mover pod \`${nameOf(p)}\` stuck in ${untrustedLine(podPhase(p), 120)} for ${since ? humanDuration(now - since) : 'a while'}.` });
  }
  const failedPod = pods.find((p) => p.status?.phase === 'Failed');
  if (failedPod && result !== 'Failed') {
    causes.push({ kind: 'mover-failed', text: `Mover pod \`${nameOf(failedPod)}\` ${untrustedLine(podPhase(failedPod), 120)}.` });
  }
  const backoff = job?.spec?.backoffLimit;
  if (job && backoff !== undefined && (job.status?.failed ?? 0) >= backoff && backoff > 0) {
    causes.push({ kind: 'job-backoff', text: `Mover Job \`${jobName}\` reached its backoff limit (${job.status?.failed} failed pods).` });
  }
  if (pvcName && !pvc && ix.pvcs.size > 0) {
    causes.push({ kind: 'pvc-missing', text: `Source PVC ${inlineCode(pvcName, 120)} does not exist in ${namespace}.` });
  }
  const robustness = volume?.status?.robustness;
  const vstate = volume?.status?.state;
  if (volume && (robustness === 'faulted' || robustness === 'unknown' || vstate === 'unknown')) {
    causes.push({
      kind: 'volume-faulted',
      text: `Longhorn volume ${inlineCode(volumeName ?? '', 120)} behind PVC ${inlineCode(pvcName ?? '', 120)} is *${robustness === 'faulted' ? 'faulted' : 'unknown'}* (state ${untrustedLine(vstate ?? 'unknown', 40)}, robustness ${untrustedLine(robustness ?? 'unknown', 40)}).`,
      hint: `${inlineCode(`kubectl get volumes.longhorn.io -n longhorn-system ${volumeName}`, 200)} to watch it recover (auto-salvage), or \`/backup doctor ${namespace}\` for the fix.`,
    });
  }

  // Overdue: two scheduled runs have passed since the last sync (cron-aware), with grace for the
  // run itself; or the run VolSync said was next is a whole interval in the past.
  if (!paused && cron) {
    const durationMs = status.lastSyncDuration ? parseGoDuration(status.lastSyncDuration) ?? 0 : 0;
    const grace = Math.max(MIN_GRACE_MS, 2 * durationMs);
    const baseline = lastSync ?? ms(rs.metadata?.creationTimestamp);
    if (baseline !== undefined) {
      const f1 = cron.next(baseline);
      const f2 = f1 !== undefined ? cron.next(f1) : undefined;
      if (f2 !== undefined && now > f2 + grace) {
        const missed = runsBetween(cron.next, baseline, now - grace);
        const runs = `${missed >= 999 ? '999+' : missed} scheduled run${missed === 1 ? '' : 's'} (\`${schedule}\`) passed without one`;
        causes.push({
          kind: 'overdue',
          text: lastSync
            ? `Overdue: last successful sync ${rfc3339(lastSync)} (${humanDuration(now - lastSync)} ago); ${runs}.`
            : `Overdue: never synced since it was created ${humanDuration(now - baseline)} ago; ${runs}.`,
        });
      }
    }
    if (nextSync !== undefined && !causes.some((c) => c.kind === 'overdue')) {
      const after = cron.next(nextSync);
      if (after !== undefined && now > after + grace) {
        causes.push({ kind: 'next-sync-past', text: `Overdue: the next sync was due ${rfc3339(nextSync)} (${humanDuration(now - nextSync)} ago) and has not run.` });
      }
    }
  } else if (!paused && schedule && !cron && nextSync !== undefined && now - nextSync > 2 * 3_600_000) {
    causes.push({ kind: 'next-sync-past', text: `Overdue: the next sync was due ${rfc3339(nextSync)} (${humanDuration(now - nextSync)} ago) and has not run.` });
  }

  const kinds = new Set(causes.map((c) => c.kind));
  let state: SourceState;
  if (paused) state = 'paused';
  else if (kinds.has('failed') || kinds.has('sync-error') || kinds.has('mover-failed') || kinds.has('job-backoff')) state = 'failing';
  else if (kinds.has('overdue') || kinds.has('next-sync-past')) state = 'overdue';
  else if (causes.length > 0) state = 'failing';
  else if (running) state = 'running';
  else state = 'healthy';

  const manual = spec.trigger?.manual;
  return {
    namespace,
    name,
    source: rs,
    state,
    causes,
    schedule,
    scheduleInvalid: schedule !== undefined && !cron,
    lastSync,
    lastSyncStart,
    duration: status.lastSyncDuration,
    nextSync,
    result,
    logTail: tail,
    running,
    runningSince,
    mover,
    paused,
    manualPending: manual && manual !== status.lastManualSync ? manual : undefined,
    pvcName,
    pvc,
    volumeName,
    volume,
    job,
    pods,
    stuckPods,
  };
}

export function evaluateAll(inv: Inventory, now: number): SourceHealth[] {
  const ix = indexInventory(inv);
  return inv.sources.map((rs) => evaluateSource(rs, ix, now));
}
