/**
 * Alert group → Slack thread, and which of the group's alerts the thread already shows. Kept in
 * a ConfigMap in the bot's namespace so a restarted bot (or another replica) keeps posting into
 * the same thread; bounded (groups, alerts per group, bytes) and expiring, written with
 * optimistic concurrency. Without a cluster it lives in memory.
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { Kube } from '../kube/client.ts';
import { ConfigMapData } from '../kube/configmap-data.ts';

export interface ThreadRecord {
  groupKey: string;
  channel: string;
  /** The parent message: the thread. */
  threadTs: string;
  createdAt: number;
  updatedAt: number;
  /** Fingerprint → what the thread last said about it: firing or resolved. */
  alerts: Record<string, 'f' | 'r'>;
}

export interface ThreadStore {
  get(groupKey: string): Promise<ThreadRecord | undefined>;
  /** Records a change. `durable`: resolves once written (a new thread must survive a restart before anything goes under it). */
  put(rec: ThreadRecord, opts?: { durable?: boolean }): Promise<void>;
  flush(): Promise<void>;
  /** Groups known, for metrics. */
  readonly size: number;
}

export interface ThreadLimits {
  maxGroups: number;
  maxAlertsPerGroup: number;
  /** Serialized size budget (a ConfigMap holds at most 1 MiB). */
  maxBytes: number;
  /** A group whose alerts are all resolved is forgotten this long after its last notification… */
  resolvedTtlMs: number;
  /** …and any group this long after its last notification. */
  ttlMs: number;
}

export const DEFAULT_THREAD_LIMITS: ThreadLimits = {
  maxGroups: 300,
  maxAlertsPerGroup: 500,
  maxBytes: 900 * 1024,
  resolvedTtlMs: 24 * 3600_000,
  ttlMs: 7 * 24 * 3600_000,
};

/** ConfigMap data keys allow [-._a-zA-Z0-9]; group keys are free text. */
export function storeKey(groupKey: string): string {
  return `g.${createHash('sha256').update(groupKey).digest('hex').slice(0, 40)}`;
}

interface Stored {
  k: string;
  c: string;
  t: string;
  ca: number;
  u: number;
  a: Record<string, 'f' | 'r'>;
}

export function encodeRecord(r: ThreadRecord): string {
  const s: Stored = { k: r.groupKey, c: r.channel, t: r.threadTs, ca: r.createdAt, u: r.updatedAt, a: r.alerts };
  return JSON.stringify(s);
}

export function decodeRecord(text: string): ThreadRecord | undefined {
  try {
    const s = JSON.parse(text) as Partial<Stored>;
    if (typeof s.k !== 'string' || typeof s.c !== 'string' || typeof s.t !== 'string' || typeof s.u !== 'number') return undefined;
    return { groupKey: s.k, channel: s.c, threadTs: s.t, createdAt: typeof s.ca === 'number' ? s.ca : s.u, updatedAt: s.u, alerts: s.a && typeof s.a === 'object' ? s.a : {} };
  } catch {
    return undefined;
  }
}

/** Caps one group's alert map: resolved alerts go first, then the oldest-listed firing ones. */
export function capAlerts(r: ThreadRecord, max: number): void {
  const entries = Object.entries(r.alerts);
  if (entries.length <= max) return;
  const resolved = entries.filter(([, s]) => s === 'r');
  const firing = entries.filter(([, s]) => s === 'f');
  const keep = [...resolved, ...firing].slice(entries.length - max);
  r.alerts = Object.fromEntries(keep);
}

/**
 * Applies expiry and the size caps to a key → serialized record map, in place. Returns the keys
 * removed. Least recently updated groups go first.
 */
export function pruneEntries(data: Record<string, string>, limits: ThreadLimits, now: number): string[] {
  const removed: string[] = [];
  const live: Array<{ key: string; rec: ThreadRecord }> = [];
  for (const [key, text] of Object.entries(data)) {
    const rec = decodeRecord(text);
    const allResolved = rec !== undefined && Object.values(rec.alerts).every((s) => s === 'r');
    if (!rec || now - rec.updatedAt > limits.ttlMs || (allResolved && now - rec.updatedAt > limits.resolvedTtlMs)) {
      delete data[key];
      removed.push(key);
      continue;
    }
    live.push({ key, rec });
  }
  live.sort((a, b) => a.rec.updatedAt - b.rec.updatedAt);
  let bytes = live.reduce((n, { key }) => n + key.length + (data[key]?.length ?? 0), 0);
  while (live.length > 0 && (live.length > limits.maxGroups || bytes > limits.maxBytes)) {
    const { key } = live.shift()!;
    bytes -= key.length + (data[key]?.length ?? 0);
    delete data[key];
    removed.push(key);
  }
  return removed;
}

export class MemoryThreadStore implements ThreadStore {
  #data: Record<string, string> = {};
  #limits: ThreadLimits;
  #now: () => number;

  constructor(opts: { limits?: Partial<ThreadLimits>; now?: () => number } = {}) {
    this.#limits = { ...DEFAULT_THREAD_LIMITS, ...opts.limits };
    this.#now = opts.now ?? Date.now;
  }

  get size(): number {
    return Object.keys(this.#data).length;
  }

  async get(groupKey: string): Promise<ThreadRecord | undefined> {
    const text = this.#data[storeKey(groupKey)];
    return text === undefined ? undefined : decodeRecord(text);
  }

  async put(rec: ThreadRecord): Promise<void> {
    const copy = structuredClone(rec);
    capAlerts(copy, this.#limits.maxAlertsPerGroup);
    this.#data[storeKey(rec.groupKey)] = encodeRecord(copy);
    pruneEntries(this.#data, this.#limits, this.#now());
  }

  async flush(): Promise<void> {}
}

export interface ConfigMapThreadStoreOptions {
  namespace: string;
  name?: string;
  log: Logger;
  limits?: Partial<ThreadLimits>;
  /** How long non-durable changes wait before they are written together (default 1 s). */
  debounceMs?: number;
  now?: () => number;
}

export class ConfigMapThreadStore implements ThreadStore {
  #cm: ConfigMapData;
  #log: Logger;
  #limits: ThreadLimits;
  #debounceMs: number;
  #now: () => number;
  #cache = new Map<string, ThreadRecord>();
  /** Key → change number, so a change made while a write is under way is not marked written. */
  #dirty = new Map<string, number>();
  #seq = 0;
  #loaded = false;
  #lastRead = 0;
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> | undefined;

  constructor(kube: Kube, opts: ConfigMapThreadStoreOptions) {
    this.#cm = new ConfigMapData(kube, { namespace: opts.namespace, name: opts.name ?? 'backup-bot-alert-threads' });
    this.#log = opts.log;
    this.#limits = { ...DEFAULT_THREAD_LIMITS, ...opts.limits };
    this.#debounceMs = opts.debounceMs ?? 1000;
    this.#now = opts.now ?? Date.now;
  }

  get size(): number {
    return this.#cache.size;
  }

  get where(): string {
    return this.#cm.where;
  }

  async get(groupKey: string): Promise<ThreadRecord | undefined> {
    const key = storeKey(groupKey);
    // A miss may be a thread another replica (or this bot before a restart) made: look again, at most every 2 s.
    if (!this.#loaded || (!this.#cache.has(key) && this.#now() - this.#lastRead > 2000)) {
      try {
        await this.#refresh();
      } catch (err) {
        this.#log.warn({ err: (err as Error).message }, `could not read the alert thread map from ${this.where}; using what is in memory`);
      }
    }
    const rec = this.#cache.get(key);
    return rec && structuredClone(rec);
  }

  async put(rec: ThreadRecord, opts: { durable?: boolean } = {}): Promise<void> {
    const copy = structuredClone(rec);
    capAlerts(copy, this.#limits.maxAlertsPerGroup);
    const key = storeKey(rec.groupKey);
    this.#cache.set(key, copy);
    this.#dirty.set(key, ++this.#seq);
    if (opts.durable) {
      try {
        await this.flush();
      } catch (err) {
        // Posting must not stop because the cluster is unreachable; a restart may then open a second thread.
        this.#log.warn({ err: (err as Error).message }, `could not save the alert thread map to ${this.where}; will retry`);
        this.#schedule(5000);
      }
      return;
    }
    this.#schedule(this.#debounceMs);
  }

  /** Writes every pending change; one write at a time. */
  async flush(): Promise<void> {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    while (this.#flushing) await this.#flushing.catch(() => undefined);
    if (this.#dirty.size === 0) return;
    this.#flushing = this.#write().finally(() => {
      this.#flushing = undefined;
    });
    await this.#flushing;
  }

  #schedule(ms: number): void {
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.flush().catch((err: unknown) => {
        this.#log.warn({ err: (err as Error).message }, `could not save the alert thread map to ${this.where}; will retry`);
        this.#schedule(5000);
      });
    }, ms);
    this.#timer.unref();
  }

  async #read(): Promise<Record<string, string>> {
    const data = await this.#cm.read();
    this.#lastRead = this.#now();
    return data;
  }

  async #refresh(): Promise<void> {
    for (const [key, text] of Object.entries(await this.#read())) {
      const theirs = decodeRecord(text);
      const ours = this.#cache.get(key);
      if (theirs && (!ours || (!this.#dirty.has(key) && theirs.updatedAt >= ours.updatedAt))) this.#cache.set(key, theirs);
    }
    this.#loaded = true;
  }

  async #write(): Promise<void> {
    const writing = new Map(this.#dirty);
    // May run more than once (after a 409): every step below gives the same result when repeated.
    await this.#cm.update((data) => {
      for (const key of writing.keys()) {
        const ours = this.#cache.get(key);
        if (!ours) continue;
        const theirs = data[key] === undefined ? undefined : decodeRecord(data[key]);
        // Two writers of one group: keep the newer view, but never lose an alert either one posted.
        if (theirs && theirs.threadTs === ours.threadTs) ours.alerts = { ...theirs.alerts, ...ours.alerts };
        if (theirs && theirs.threadTs !== ours.threadTs && theirs.updatedAt > ours.updatedAt) {
          this.#cache.set(key, theirs);
          continue;
        }
        data[key] = encodeRecord(ours);
      }
      for (const key of pruneEntries(data, this.#limits, this.#now())) this.#cache.delete(key);
    });
    this.#lastRead = this.#now();
    for (const [key, seq] of writing) if (this.#dirty.get(key) === seq) this.#dirty.delete(key);
  }
}
