/**
 * What the bot remembers about window instances, so that a restart (or another replica) carries
 * on where it left off: which instances it saw open, the alerts observed and annotated during
 * each, the silence it owns, and whether the summary went out. Kept in the cluster by
 * ConfigMapWindowStore, in memory without a cluster.
 */

export interface ObservedAlert {
  fingerprint: string;
  alertname?: string;
  namespace?: string;
  pod?: string;
  container?: string;
  /** The alert's Slack thread, when the alerts pipeline posted one (not for muted alerts). */
  channel?: string;
  threadTs?: string;
  status: 'firing' | 'resolved';
  firstSeenAt: string;
  lastSeenAt: string;
  resolvedAt?: string;
  /** A known-transient pod of the window (transientPods and namespaces). */
  transient: boolean;
  /** webhook: from the alerts pipeline; silenced: seen in Alertmanager behind the window's silence. */
  source: 'webhook' | 'silenced';
  annotated?: { at: string; verdict: 'transient' | 'investigate' };
  escalatedAt?: string;
}

export interface InstanceSummary {
  /** posting: claimed by a replica that is posting now; posted / skipped / failed: final. */
  state: 'posting' | 'posted' | 'skipped' | 'failed';
  at: string;
  channel?: string;
  ts?: string;
  note?: string;
  attempts?: number;
}

export interface InstanceState {
  /** WindowInstance.id, e.g. "pbs@2026-11-22T02:00:00.000Z". */
  id: string;
  window: string;
  /** The window's zone when the instance was recorded, for its summary even if the window is gone. */
  zone: string;
  start: string;
  end: string;
  graceEnd: string;
  /** First time a replica saw the instance open (later than `start` after a restart mid-window). */
  openedAt: string;
  mode: 'annotate' | 'mute';
  cfg: string;
  silence?: { id: string; cfg: string; createdAt: string };
  /** Every silence this instance has owned (a configuration change replaces it), for muted alerts. */
  silenceIds?: string[];
  alerts: Record<string, ObservedAlert>;
  /** Alerts not recorded because the instance already held MAX_ALERTS. */
  dropped?: number;
  summary?: InstanceSummary;
  closedAt?: string;
}

/** Instances by id. */
export type WindowsState = Record<string, InstanceState>;

export interface WindowStateStore {
  read(): Promise<WindowsState>;
  /**
   * Applies `change` to the current state atomically and returns its result. `change` mutates the
   * state it is given and may run more than once (after a conflicting write), so it must be pure
   * apart from that mutation.
   */
  update<T>(change: (state: WindowsState) => T): Promise<T>;
}

/** Alerts kept per instance: enough for a storm's summary, small enough for a ConfigMap. */
export const MAX_ALERTS = 150;
/** Instances are kept this long after their grace end, for "the last window" in /backup window. */
const KEEP_MS = 15 * 86_400_000;
const KEEP_PER_WINDOW = 3;

/** Drops old instances: older than KEEP_MS, and all but the newest few per window. */
export function prune(state: WindowsState, now: Date): void {
  const byWindow = new Map<string, InstanceState[]>();
  for (const inst of Object.values(state)) {
    if (new Date(inst.graceEnd).getTime() + KEEP_MS < now.getTime()) {
      delete state[inst.id];
      continue;
    }
    byWindow.set(inst.window, [...(byWindow.get(inst.window) ?? []), inst]);
  }
  for (const list of byWindow.values()) {
    list.sort((a, b) => b.start.localeCompare(a.start));
    for (const old of list.slice(KEEP_PER_WINDOW)) delete state[old.id];
  }
}

export class MemoryWindowStore implements WindowStateStore {
  #state: WindowsState = {};
  #now: () => Date;

  constructor(opts: { now?: () => Date } = {}) {
    this.#now = opts.now ?? (() => new Date());
  }

  async read(): Promise<WindowsState> {
    return structuredClone(this.#state);
  }

  async update<T>(change: (state: WindowsState) => T): Promise<T> {
    const next = structuredClone(this.#state);
    const result = change(next);
    prune(next, this.#now());
    this.#state = next;
    return result;
  }
}

/** The encoded state must stay below a ConfigMap's 1 MiB with room for its metadata. */
export const MAX_STATE_BYTES = 900 * 1024;

/** One ConfigMap key per window ("pbs.json"), so `kubectl get configmap -o yaml` stays readable. */
export function encodeWindows(state: WindowsState): Record<string, string> {
  const byWindow: Record<string, Record<string, InstanceState>> = {};
  for (const inst of Object.values(state)) (byWindow[inst.window] ??= {})[inst.id] = inst;
  return Object.fromEntries(Object.entries(byWindow).map(([w, instances]) => [`${w}.json`, JSON.stringify(instances)]));
}

function encodedBytes(state: WindowsState): number {
  return Object.entries(encodeWindows(state)).reduce((n, [k, v]) => n + Buffer.byteLength(k, 'utf8') + Buffer.byteLength(v, 'utf8'), 0);
}

/**
 * Keeps the encoded state within `maxBytes` (UTF-8, as the API server counts): drops recorded
 * alerts, resolved ones first, then the least recently seen, counting them in `dropped`; and if
 * that is not enough, the oldest instances. A state that cannot be saved would never save again.
 */
export function fitState(state: WindowsState, maxBytes = MAX_STATE_BYTES): void {
  let size = encodedBytes(state);
  if (size <= maxBytes) return;
  const candidates = Object.values(state)
    .flatMap((inst) => Object.entries(inst.alerts).map(([key, a]) => ({ inst, key, a })))
    .sort((x, y) => Number(x.a.status === 'firing') - Number(y.a.status === 'firing') || x.a.lastSeenAt.localeCompare(y.a.lastSeenAt));
  for (const { inst, key, a } of candidates) {
    if (size <= maxBytes) break;
    size -= Buffer.byteLength(JSON.stringify(key), 'utf8') + Buffer.byteLength(JSON.stringify(a), 'utf8') + 2;
    delete inst.alerts[key];
    inst.dropped = (inst.dropped ?? 0) + 1;
    // The estimate may drift (separators): measure again now and then.
    if (size <= maxBytes) size = encodedBytes(state);
  }
  size = encodedBytes(state);
  for (const inst of Object.values(state).sort((x, y) => x.start.localeCompare(y.start))) {
    if (size <= maxBytes) break;
    delete state[inst.id];
    size = encodedBytes(state);
  }
}
