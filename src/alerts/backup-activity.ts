/**
 * Evidence about backups for a crash-loop diagnosis: which VolSync mover pods run right now and
 * since when (one cluster-wide list with a label selector, cached briefly so an alert storm asks
 * once), and whether a configured backup window is open. "Backup of media/plex running since
 * 02:04" is evidence; a window being open is only the schedule.
 */
import type { WindowConfig } from '../config.ts';
import { moverFromPod } from '../volsync/mover-pods.ts';
import type { MoverPod, MoverPodSource } from '../volsync/mover-pods.ts';
import { currentOrNext, isTransientPod, lastClosed } from '../window/index.ts';
import type { WindowInstance } from '../window/index.ts';

export type { MoverPod };

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

export class BackupActivity {
  #pods: MoverPodSource | undefined;
  #windows: readonly WindowConfig[];
  #now: () => Date;

  /** `moverPods`: the bot's one mover lookup (src/volsync/mover-pods.ts); absent without a cluster. */
  constructor(opts: { moverPods?: MoverPodSource; windows: readonly WindowConfig[]; now?: () => Date }) {
    this.#pods = opts.moverPods;
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
