/**
 * Evidence about backups for a crash-loop diagnosis: which VolSync mover pods run right now and
 * since when (one cluster-wide list with a label selector, cached briefly so an alert storm asks
 * once), and whether a configured backup window is open. "Backup of media/plex running since
 * 02:04" is evidence; a window being open is only the schedule.
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { WindowConfig } from '../config.ts';
import type { Kube } from '../kube/client.ts';
import { cachedMoverPods } from '../kube/mover-pods.ts';
import type { MoverPodSource } from '../kube/mover-pods.ts';
import { currentOrNext, isTransientPod, lastClosed } from '../window/index.ts';
import type { WindowInstance } from '../window/index.ts';


export interface MoverPod {
  namespace: string;
  name: string;
  /** volsync-src-* back up, volsync-dst-* restore. */
  kind: 'backup' | 'restore';
  /** The ReplicationSource/Destination the mover works for, from the pod name. */
  app: string;
  phase: string;
  since?: Date;
}

export interface MoverSnapshot {
  movers: MoverPod[];
  /** Why the movers are unknown (no cluster, RBAC…). */
  error?: string;
  at: Date;
}

export interface WindowState {
  name: string;
  zone: string;
  mode: WindowConfig['mode'];
  /** Open now (start <= now < end). */
  open: boolean;
  /** Closed, but within the grace after the most recent instance. */
  inGrace: boolean;
  /** The open instance, the one in grace, or the next one. */
  instance: WindowInstance;
  /** The pod is on this window's list of known transient crashers. */
  transientPod: boolean;
}

export function moverFromPod(p: V1Pod): MoverPod | undefined {
  const name = p.metadata?.name ?? '';
  const m = /^volsync-(src|dst)-(.+?)(?:-[a-z0-9]{5})?$/.exec(name);
  if (!m) return undefined;
  const running = [...(p.status?.containerStatuses ?? [])].map((c) => c.state?.running?.startedAt).filter((d): d is Date => d !== undefined);
  const started = running[0] ?? p.status?.startTime ?? p.metadata?.creationTimestamp;
  return {
    namespace: p.metadata?.namespace ?? '',
    name,
    kind: m[1] === 'src' ? 'backup' : 'restore',
    app: m[2]!,
    phase: p.status?.phase ?? 'Unknown',
    ...(started ? { since: new Date(started) } : {}),
  };
}

export class BackupActivity {
  #pods: MoverPodSource | undefined;
  #windows: readonly WindowConfig[];
  #now: () => Date;

  constructor(opts: { kube?: Kube; windows: readonly WindowConfig[]; cacheMs?: number; now?: () => Date }) {
    this.#pods = opts.kube ? cachedMoverPods(opts.kube, { cacheMs: opts.cacheMs ?? 10_000 }) : undefined;
    this.#windows = opts.windows;
    this.#now = opts.now ?? (() => new Date());
  }

  /** Mover pods that are running or about to (Pending), newest snapshot at most cacheMs old. */
  async movers(): Promise<MoverSnapshot> {
    const at = this.#now();
    if (!this.#pods) return { movers: [], error: 'no cluster configured', at };
    const list = await this.#pods(at);
    if (list.error) return { movers: [], error: list.error, at };
    const movers = list.pods.map(moverFromPod).filter((m): m is MoverPod => m !== undefined && (m.phase === 'Running' || m.phase === 'Pending'));
    return { movers, at: list.at };
  }

  /** Every configured window's state at `at`, for the pod in `namespace`. */
  windows(at: Date, pod?: string, namespace?: string): WindowState[] {
    return this.#windows.map((w) => {
      const { open, instance } = currentOrNext(w, at);
      const closed = open ? undefined : lastClosed(w, at);
      const inGrace = closed !== undefined && at < closed.graceEnd;
      const nsOk = w.namespaces.length === 0 || (namespace !== undefined && w.namespaces.includes(namespace));
      return {
        name: w.name,
        zone: w.zone,
        mode: w.mode,
        open,
        inGrace,
        instance: inGrace && closed ? closed : instance,
        transientPod: pod !== undefined && nsOk && isTransientPod(w.transientPods, pod),
      };
    });
  }
}
