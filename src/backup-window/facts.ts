/**
 * The backup-window engine's one question: which windows cover this pod at this instant, and what
 * is the evidence (a window open or in its grace, VolSync movers running). The alert diagnosis,
 * the window's annotation and `/backup window` all ask it here; src/window/ is the arithmetic
 * underneath, and schedules/backup-window.ts only decides when the window runtime wakes.
 *
 * "Backup of media/plex running since 02:04" is evidence; a window being open is only the schedule.
 */
import type { WindowConfig } from '../config.ts';
import { moverFromPod } from '../volsync/mover-pods.ts';
import type { MoverPod, MoverPodSource } from '../volsync/mover-pods.ts';
import { currentOrNext, instanceAt, isTransientPod, lastClosed } from '../window/index.ts';
import type { WindowInstance, WindowTimes } from '../window/index.ts';

export type { MoverPod };

/** The parts of a configured window the facts depend on. */
export type WindowFactsConfig = WindowTimes & Pick<WindowConfig, 'name' | 'zone' | 'mode' | 'transientPods' | 'namespaces'>;

/** One window at one instant, for one pod. */
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

/** Whether a pod in a namespace is one of the window's known transients (its patterns, in its namespaces). */
export function isWindowTransient(w: Pick<WindowConfig, 'transientPods' | 'namespaces'>, pod: string | undefined, namespace: string | undefined): boolean {
  if (!pod || !namespace || !w.namespaces.includes(namespace)) return false;
  return isTransientPod(w.transientPods, pod);
}

/** Every window's state at `at`, for the pod `pod` in `namespace`. */
export function windowStates(windows: readonly WindowFactsConfig[], at: Date, pod?: string, namespace?: string): WindowState[] {
  return windows.map((w) => {
    const { open, instance } = currentOrNext(w, at);
    const closed = open ? undefined : lastClosed(w, at);
    const inGrace = closed !== undefined && at < closed.graceEnd;
    return {
      name: w.name,
      zone: w.zone,
      mode: w.mode,
      open,
      inGrace,
      instance: inGrace && closed ? closed : instance,
      // As the diagnosis always read it: a window built in code without namespaces (the schema
      // refuses an empty list) covers any namespace here; isWindowTransient does not.
      transientPod: pod !== undefined && (w.namespaces.length === 0 || (namespace !== undefined && w.namespaces.includes(namespace))) && isTransientPod(w.transientPods, pod),
    };
  });
}

/** Instances of `w` open at `at` or still in their grace period: [start, graceEnd). */
export function liveInstances(w: WindowTimes, at: Date): WindowInstance[] {
  const out: WindowInstance[] = [];
  const open = instanceAt(w, at);
  if (open) out.push(open);
  const last = lastClosed(w, at);
  if (last && at.getTime() < last.graceEnd.getTime() && last.id !== open?.id) out.push(last);
  return out;
}

/** The live instance whose verdict applies to a pod: the window it is known to crash in first. */
export function coveringInstance<W extends WindowFactsConfig>(windows: readonly W[], at: Date, pod: string | undefined, namespace: string | undefined): { w: W; inst: WindowInstance; transient: boolean } | undefined {
  const live = windows.flatMap((w) => liveInstances(w, at).map((inst) => ({ w, inst })));
  if (live.length === 0) return undefined;
  const chosen = live.find((l) => isWindowTransient(l.w, pod, namespace)) ?? live[0]!;
  return { ...chosen, transient: isWindowTransient(chosen.w, pod, namespace) };
}

export interface MoverSnapshot {
  movers: MoverPod[];
  /** Why the movers are unknown (no cluster, RBAC…). */
  error?: string;
  at: Date;
}

/** The engine, with the bot's one mover lookup and clock. */
export class BackupFacts {
  #pods: MoverPodSource | undefined;
  #windows: readonly WindowFactsConfig[];
  #now: () => Date;

  /** `moverPods`: the bot's one mover lookup (src/volsync/mover-pods.ts); absent without a cluster. */
  constructor(opts: { moverPods?: MoverPodSource; windows: readonly WindowFactsConfig[]; now?: () => Date }) {
    this.#pods = opts.moverPods;
    this.#windows = opts.windows;
    this.#now = opts.now ?? (() => new Date());
  }

  /** Mover pods that are running or about to (Pending), from a list at most the lookup's cache age old. */
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
    return windowStates(this.#windows, at, pod, namespace);
  }
}
