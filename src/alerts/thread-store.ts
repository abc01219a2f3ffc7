/**
 * Alert group → Slack thread, and which of the group's alerts the thread already shows. Kept in
 * a ConfigMap in the bot's namespace so a restarted bot (or another replica) keeps posting into
 * the same thread; bounded (groups, alerts per group, UTF-8 bytes per group and in all) and
 * expiring, written with optimistic concurrency. Every text that comes from outside (group keys,
 * labels, fingerprints) is capped, so the map always fits the ConfigMap's 1 MiB and a write can
 * always succeed. Without a cluster it lives in memory.
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { Kube } from '../kube/client.ts';
import { ConfigMapData } from '../kube/configmap-data.ts';

export interface ThreadRecord {
  /** Alertmanager's groupKey (stored capped: see capText; get() answers with the caller's key). */
  groupKey: string;
  channel: string;
  /** The webhook receiver and group labels, so a group can be matched with Alertmanager's GET /api/v2/alerts/groups. */
  receiver?: string;
  groupLabels?: Record<string, string>;
  /** The parent message: the thread. */
  threadTs: string;
  createdAt: number;
  updatedAt: number;
  /** Fingerprint → what the thread last said about it: firing or resolved. */
  alerts: Record<string, 'f' | 'r'>;
}

export interface ThreadStore {
  get(groupKey: string): Promise<ThreadRecord | undefined>;
  /** Every group known, with group keys as stored (capped ones cannot address their group: see isWholeKey). */
  all(): Promise<ThreadRecord[]>;
  /** Records a change. `durable`: resolves once written (a new thread must survive a restart before anything goes under it). */
  put(rec: ThreadRecord, opts?: { durable?: boolean }): Promise<void>;
  flush(): Promise<void>;
  /** Groups known, for metrics. */
  readonly size: number;
}

export interface ThreadLimits {
  maxGroups: number;
  maxAlertsPerGroup: number;
  /** Serialized size budget in UTF-8 bytes, keys included (a ConfigMap holds at most 1 MiB in all). */
  maxBytes: number;
  /** One group's budget (default: a quarter of maxBytes, at most 64 KiB), so the newest group always fits. */
  maxRecordBytes?: number;
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

const sha = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

/** ConfigMap data keys allow [-._a-zA-Z0-9]; group keys are free text. */
export function storeKey(groupKey: string): string {
  return `g.${sha(groupKey).slice(0, 40)}`;
}

/** Group keys and label values kept in the map are at most this many UTF-8 bytes. */
export const MAX_TEXT_BYTES = 256;
const MAX_FINGERPRINT_BYTES = 64;
const MAX_GROUP_LABELS = 16;

/** `s` if it fits `max` UTF-8 bytes, else a prefix, "…" and a hash of the whole (so different long texts stay different). */
export function capText(s: string, max = MAX_TEXT_BYTES): string {
  if (Buffer.byteLength(s, 'utf8') <= max) return s;
  const tail = `…#${sha(s).slice(0, 16)}`;
  // Cutting bytes may split a character: drop the broken end.
  const head = Buffer.from(s, 'utf8').subarray(0, max - Buffer.byteLength(tail, 'utf8')).toString('utf8').replace(/\uFFFD+$/, '');
  return `${head}${tail}`;
}

/** Whether a stored group key is the whole key (not capped), i.e. can be used to address the group again. */
export function isWholeKey(groupKey: string): boolean {
  return capText(groupKey) === groupKey;
}

/** The key an alert is recorded under: its fingerprint (Alertmanager's are 16 hex digits), or a hash of one that is too long. */
export function alertKey(fingerprint: string): string {
  // Idempotent: a key already made here (or any short fingerprint) is its own key.
  return Buffer.byteLength(fingerprint, 'utf8') <= MAX_FINGERPRINT_BYTES ? fingerprint : `h.${sha(fingerprint).slice(0, 40)}`;
}

function capLabels(labels: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(labels).slice(0, MAX_GROUP_LABELS).map(([k, v]) => [capText(k, 64), capText(v)]));
}

interface Stored {
  k: string;
  c: string;
  t: string;
  ca: number;
  u: number;
  a: Record<string, 'f' | 'r'>;
  r?: string;
  gl?: Record<string, string>;
}

export function encodeRecord(r: ThreadRecord): string {
  const alerts: Record<string, 'f' | 'r'> = {};
  for (const [fp, st] of Object.entries(r.alerts)) alerts[alertKey(fp)] = st;
  const s: Stored = {
    k: capText(r.groupKey), c: r.channel, t: r.threadTs, ca: r.createdAt, u: r.updatedAt, a: alerts,
    ...(r.receiver !== undefined ? { r: capText(r.receiver, 128) } : {}),
    ...(r.groupLabels ? { gl: capLabels(r.groupLabels) } : {}),
  };
  return JSON.stringify(s);
}

export function decodeRecord(text: string): ThreadRecord | undefined {
  try {
    const s = JSON.parse(text) as Partial<Stored>;
    if (typeof s.k !== 'string' || typeof s.c !== 'string' || typeof s.t !== 'string' || typeof s.u !== 'number') return undefined;
    return {
      groupKey: s.k, channel: s.c, threadTs: s.t, createdAt: typeof s.ca === 'number' ? s.ca : s.u, updatedAt: s.u, alerts: s.a && typeof s.a === 'object' ? s.a : {},
      ...(typeof s.r === 'string' ? { receiver: s.r } : {}),
      ...(s.gl && typeof s.gl === 'object' ? { groupLabels: s.gl } : {}),
    };
  } catch {
    return undefined;
  }
}

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

export function recordBudget(limits: ThreadLimits): number {
  return limits.maxRecordBytes ?? Math.min(64 * 1024, Math.floor(limits.maxBytes / 4));
}

/**
 * Caps one group's alert map to `max` alerts and, when given, `maxBytes` serialized: resolved
 * alerts go first, then the oldest-listed firing ones.
 */
export function capAlerts(r: ThreadRecord, max: number, maxBytes?: number): void {
  const entries = Object.entries(r.alerts).map(([fp, st]): [string, 'f' | 'r'] => [alertKey(fp), st]);
  const ordered = [...entries.filter(([, s]) => s === 'r'), ...entries.filter(([, s]) => s === 'f')];
  let drop = Math.max(0, ordered.length - max);
  if (maxBytes !== undefined) {
    let size = bytes(encodeRecord({ ...r, alerts: Object.fromEntries(ordered.slice(drop)) }));
    while (size > maxBytes && drop < ordered.length) {
      const [fp, st] = ordered[drop++]!;
      size -= bytes(JSON.stringify(fp)) + bytes(JSON.stringify(st)) + 2;
    }
  }
  if (drop === 0 && entries.every(([fp]) => Object.hasOwn(r.alerts, fp))) return;
  r.alerts = Object.fromEntries(ordered.slice(drop));
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
  // Bytes, not string length: "é" is one UTF-16 unit and two bytes, and the API server counts bytes.
  const cost = (key: string) => bytes(key) + bytes(data[key] ?? '') + 8;
  let total = live.reduce((n, { key }) => n + cost(key), 0);
  while (live.length > 0 && (live.length > limits.maxGroups || total > limits.maxBytes)) {
    const { key } = live.shift()!;
    total -= cost(key);
    delete data[key];
    removed.push(key);
  }
  return removed;
}

export function dataBytes(data: Record<string, string>): number {
  return Object.entries(data).reduce((n, [k, v]) => n + bytes(k) + bytes(v), 0);
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

  /** UTF-8 bytes of the map, as a ConfigMap would hold it. */
  get bytes(): number {
    return dataBytes(this.#data);
  }

  async get(groupKey: string): Promise<ThreadRecord | undefined> {
    const text = this.#data[storeKey(groupKey)];
    const rec = text === undefined ? undefined : decodeRecord(text);
    return rec && { ...rec, groupKey };
  }

  async all(): Promise<ThreadRecord[]> {
    return Object.values(this.#data).map((t) => decodeRecord(t)).filter((r): r is ThreadRecord => r !== undefined);
  }

  async put(rec: ThreadRecord): Promise<void> {
    const copy = structuredClone(rec);
    capAlerts(copy, this.#limits.maxAlertsPerGroup, recordBudget(this.#limits));
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
    return rec && { ...structuredClone(rec), groupKey };
  }

  /** Every group known (read afresh when possible), with group keys as stored. */
  async all(): Promise<ThreadRecord[]> {
    await this.#refresh();
    return [...this.#cache.values()].map((r) => structuredClone(r));
  }

  async put(rec: ThreadRecord, opts: { durable?: boolean } = {}): Promise<void> {
    const copy = structuredClone(rec);
    capAlerts(copy, this.#limits.maxAlertsPerGroup, recordBudget(this.#limits));
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
        if (theirs && theirs.threadTs === ours.threadTs) {
          ours.alerts = { ...theirs.alerts, ...ours.alerts };
          capAlerts(ours, this.#limits.maxAlertsPerGroup, recordBudget(this.#limits));
        }
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
