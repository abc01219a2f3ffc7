/**
 * VolSync mover pods: the one place that knows how VolSync names them, and the one cluster-wide
 * lookup the alerts, the backup window, status and unlock share.
 *
 * VolSync runs a ReplicationSource's backup as Job `volsync-src-<source>` and a
 * ReplicationDestination's restore as Job `volsync-dst-<destination>`; the Job controller names
 * their pods `<job>-<5 chars>` and labels them with the Job's name.
 *
 * The lookup lists them with one request by the label VolSync puts on everything it creates.
 * Cached for a few seconds so an alert storm asks once, and given up after a timeout so a slow API
 * server never holds up an alert's thread. A failed look is not cached.
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { Kube } from '../kube/client.ts';
import { kubeErrorLine } from '../kube/client.ts';

export const VOLSYNC_MOVER_SELECTOR = 'app.kubernetes.io/created-by=volsync';

/** A source's mover backs up; a destination's restores. */
export type MoverKind = 'source' | 'destination';

const PREFIX: Record<MoverKind, string> = { source: 'volsync-src-', destination: 'volsync-dst-' };

/** The mover Job VolSync creates for a ReplicationSource (`source`) or ReplicationDestination. */
export function moverJobName(kind: MoverKind, owner: string): string {
  return `${PREFIX[kind]}${owner}`;
}

export const sourceJobName = (source: string): string => moverJobName('source', source);

/** What a mover Job's name says: whose mover it is. */
export function parseMoverJob(job: string): { kind: MoverKind; owner: string } | undefined {
  const m = /^volsync-(src|dst)-(.+)$/.exec(job);
  return m ? { kind: m[1] === 'src' ? 'source' : 'destination', owner: m[2]! } : undefined;
}

/**
 * What a mover pod's name says: the Job's name, less the Job controller's 5-character suffix.
 * `suffix: 'optional'` also takes a bare Job name (a hostname VolSync set to the Job's name).
 */
export function parseMoverPodName(name: string, suffix: 'required' | 'optional' = 'optional'): { kind: MoverKind; owner: string } | undefined {
  const m = (suffix === 'required' ? /^volsync-(src|dst)-(.+)-[a-z0-9]{5}$/ : /^volsync-(src|dst)-(.+?)(?:-[a-z0-9]{5})?$/).exec(name);
  return m ? { kind: m[1] === 'src' ? 'source' : 'destination', owner: m[2]! } : undefined;
}

/** A restic lock's hostname (or a pod name) that a VolSync mover would have. */
export function isMoverHostname(hostname: string): boolean {
  return /^volsync-(src|dst)-./.test(hostname);
}

/** The Job a pod belongs to: the Job controller's labels (the new one first). */
export function jobNameOf(pod: { metadata?: { labels?: Record<string, string> } }): string | undefined {
  const l = pod.metadata?.labels;
  return l?.['batch.kubernetes.io/job-name'] ?? l?.['job-name'];
}

/** One mover pod, as the alerts, the window and unlock show it. */
export interface MoverPod {
  namespace: string;
  name: string;
  kind: MoverKind;
  /** The ReplicationSource/Destination the mover works for. */
  owner: string;
  phase: string;
  since?: Date;
}

const ACTIVE = new Set(['Running', 'Pending']);

type Time = string | Date | null | undefined;

/** The fields of a pod the mover lookups read: a typed V1Pod, or a pod from a watch (times as strings). */
export interface PodLike {
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string>; creationTimestamp?: Time; deletionTimestamp?: Time };
  status?: { phase?: string; startTime?: Time };
}

/**
 * A mover pod recognised by its own name, or undefined; `since` is when its container started
 * running (else the pod started, else it was created).
 */
export function moverFromPod(p: V1Pod): MoverPod | undefined {
  const name = p.metadata?.name ?? '';
  const m = parseMoverPodName(name);
  if (!m) return undefined;
  const running = [...(p.status?.containerStatuses ?? [])].map((c) => c.state?.running?.startedAt).filter((d): d is Date => d !== undefined);
  const started = running[0] ?? p.status?.startTime ?? p.metadata?.creationTimestamp;
  return {
    namespace: p.metadata?.namespace ?? '',
    name,
    kind: m.kind,
    owner: m.owner,
    phase: p.status?.phase ?? 'Unknown',
    ...(started ? { since: new Date(started) } : {}),
  };
}

/**
 * The Running or Pending mover pods of `source` and of `destinations` (those restoring from the
 * same repository), recognised by their Job label; sorted by name.
 */
export function activeMovers(pods: readonly PodLike[], source: string, destinations: readonly string[] = []): MoverPod[] {
  const owners = new Map<string, { owner: string; kind: MoverKind }>([[moverJobName('source', source), { owner: source, kind: 'source' }]]);
  for (const d of destinations) owners.set(moverJobName('destination', d), { owner: d, kind: 'destination' });
  const out: MoverPod[] = [];
  for (const pod of pods) {
    const job = jobNameOf(pod);
    const owner = job ? owners.get(job) : undefined;
    const phase = pod.status?.phase ?? 'Unknown';
    if (!owner || !ACTIVE.has(phase) || pod.metadata?.deletionTimestamp) continue;
    const started = pod.status?.startTime ?? pod.metadata?.creationTimestamp;
    out.push({ namespace: pod.metadata?.namespace ?? '', name: pod.metadata?.name ?? '', phase, ...owner, ...(started ? { since: new Date(started) } : {}) });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

export interface MoverPodList {
  /** Pods not being deleted. */
  pods: V1Pod[];
  at: Date;
  /** Why the list is unknown (RBAC, unreachable, timeout), as one line. */
  error?: string;
}

export type MoverPodSource = (now: Date) => Promise<MoverPodList>;

/** The one lookup: app.ts makes it once per cluster and hands it to the alerts and the window. */
export function cachedMoverPods(kube: Kube, opts: { cacheMs?: number; timeoutMs?: number } = {}): MoverPodSource {
  const cacheMs = opts.cacheMs ?? 10_000;
  const timeoutMs = opts.timeoutMs ?? 5_000;
  let cached: { at: number; value: Promise<MoverPodList> } | undefined;
  return (now: Date) => {
    const age = cached ? now.getTime() - cached.at : Infinity;
    if (cached && age >= 0 && age < cacheMs) return cached.value;
    const value = (async (): Promise<MoverPodList> => {
      let timer: NodeJS.Timeout | undefined;
      try {
        const list = await Promise.race([
          kube.core.listPodForAllNamespaces({ labelSelector: VOLSYNC_MOVER_SELECTOR }),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(Object.assign(new Error('timed out'), { name: 'TimeoutError' })), timeoutMs);
          }),
        ]);
        return { pods: list.items.filter((p) => !p.metadata?.deletionTimestamp), at: now };
      } catch (err) {
        cached = undefined;
        return { pods: [], at: now, error: kubeErrorLine(err, 'list VolSync mover pods', kube) };
      } finally {
        clearTimeout(timer);
      }
    })();
    cached = { at: now.getTime(), value };
    return value;
  };
}
