/**
 * Alert group → Slack thread, and which of the group's alerts the thread already shows. Kept in
 * a ConfigMap in the bot's namespace so a restarted bot (or another replica) keeps posting into
 * the same thread; bounded (groups, alerts per group, UTF-8 bytes per group and in all) and
 * expiring, written with optimistic concurrency. Every text that comes from outside (group keys,
 * labels, fingerprints) is capped, so the map always fits the ConfigMap's 1 MiB and a write can
 * always succeed. Without a cluster it lives in memory.
 */
import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
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
  /** The replica posting this group's round now, and until when its claim holds (see ThreadStore.begin). */
  lock?: { by: string; until: number };
  /** The diagnoses' headlines so far, distinct, first one first (the parent shows them; see addHeadline). */
  headlines?: string[];
  /** Backup incidents (their ids) whose thread was told about this alert group, so the note is posted once (see incident-links.ts). */
  incidents?: string[];
}

/** Distinct headlines a record keeps, each at most this many UTF-8 bytes: the parent names the first and counts the rest. */
export const MAX_HEADLINES = 4;
const MAX_HEADLINE_BYTES = 200;
/** Incident threads a group remembers having told (one per source its alerts are about, in practice). */
export const MAX_INCIDENT_LINKS = 8;

/** Records a diagnosis headline once; true when the record changed (the parent then needs an update). */
export function addHeadline(r: ThreadRecord, headline: string): boolean {
  const h = capText(headline, MAX_HEADLINE_BYTES);
  const list = r.headlines ?? [];
  if (list.includes(h) || list.length >= MAX_HEADLINES) return false;
  r.headlines = [...list, h];
  return true;
}

/** What ThreadStore.begin() found: the group's record now (undefined `rec.threadTs`: no thread yet), or another replica at work on it. */
export type RoundStart = { rec: ThreadRecord | undefined } | { busy: string };

export interface ThreadStore {
  get(groupKey: string): Promise<ThreadRecord | undefined>;
  /** Every group known, with group keys as stored (capped ones cannot address their group: see isWholeKey). */
  all(): Promise<ThreadRecord[]>;
  /**
   * Starts one round of posting for a group: claims it for this replica with a write that only
   * succeeds on the resourceVersion it read (a group nobody posted yet is claimed by creating its
   * key), and answers with the record as the cluster holds it now, never a stale cached copy. Two
   * replicas given the same notification (an HA Alertmanager pair) thus post it once: the second
   * finds the group busy, then the first one's marks.
   */
  begin(groupKey: string): Promise<RoundStart>;
  /** Ends the round begin() started: saves `rec` (when a thread exists) and releases the claim. */
  end(groupKey: string, rec: ThreadRecord | undefined): Promise<void>;
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
  l?: { b: string; u: number };
  h?: string[];
  n?: string[];
}

export function encodeRecord(r: ThreadRecord): string {
  const alerts: Record<string, 'f' | 'r'> = {};
  for (const [fp, st] of Object.entries(r.alerts)) alerts[alertKey(fp)] = st;
  const s: Stored = {
    k: capText(r.groupKey), c: r.channel, t: r.threadTs, ca: r.createdAt, u: r.updatedAt, a: alerts,
    ...(r.receiver !== undefined ? { r: capText(r.receiver, 128) } : {}),
    ...(r.groupLabels ? { gl: capLabels(r.groupLabels) } : {}),
    ...(r.lock ? { l: { b: capText(r.lock.by, 128), u: r.lock.until } } : {}),
    ...(r.headlines?.length ? { h: r.headlines.slice(0, MAX_HEADLINES).map((x) => capText(x, MAX_HEADLINE_BYTES)) } : {}),
    ...(r.incidents?.length ? { n: r.incidents.slice(-MAX_INCIDENT_LINKS).map((x) => capText(x, 300)) } : {}),
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
      ...(s.l && typeof s.l.b === 'string' && typeof s.l.u === 'number' ? { lock: { by: s.l.b, until: s.l.u } } : {}),
      ...(Array.isArray(s.h) ? { headlines: s.h.filter((x): x is string => typeof x === 'string').slice(0, MAX_HEADLINES) } : {}),
      ...(Array.isArray(s.n) ? { incidents: s.n.filter((x): x is string => typeof x === 'string').slice(-MAX_INCIDENT_LINKS) } : {}),
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

  /** One process: nobody else posts, so a round only needs the record. */
  async begin(groupKey: string): Promise<RoundStart> {
    return { rec: await this.get(groupKey) };
  }

  async end(_groupKey: string, rec: ThreadRecord | undefined): Promise<void> {
    if (rec) await this.put(rec);
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
  /** This replica, in round claims (default: host name and a random suffix). */
  identity?: string;
  /** A claim not renewed for this long is taken over (the replica died mid-round; default 60 s). */
  claimTtlMs?: number;
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
  readonly identity: string;
  #claimTtlMs: number;
  #claims: Array<{ key: string; groupKey: string; resolve: (r: RoundStart) => void; reject: (e: unknown) => void }> = [];
  #claiming: Promise<void> | undefined;

  constructor(kube: Kube, opts: ConfigMapThreadStoreOptions) {
    this.#cm = new ConfigMapData(kube, { namespace: opts.namespace, name: opts.name ?? 'backup-bot-alert-threads' });
    this.identity = opts.identity ?? `${hostname()}-${randomBytes(4).toString('hex')}`;
    this.#claimTtlMs = opts.claimTtlMs ?? 60_000;
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

  async begin(groupKey: string): Promise<RoundStart> {
    const key = storeKey(groupKey);
    try {
      const start = await new Promise<RoundStart>((resolve, reject) => {
        this.#claims.push({ key, groupKey, resolve, reject });
        if (!this.#claiming) this.#claiming = this.#claimAll().finally(() => { this.#claiming = undefined; });
      });
      if ('busy' in start) return start;
      return { rec: start.rec?.threadTs ? start.rec : undefined };
    } catch (err) {
      // The cluster is unreachable: post from what is in memory (an alert about the cluster must still go out).
      this.#log.warn({ err: (err as Error).message }, `could not claim an alert group in ${this.where}; posting from the copy in memory`);
      const rec = this.#cache.get(key);
      return { rec: rec?.threadTs ? { ...structuredClone(rec), groupKey } : undefined };
    }
  }

  /**
   * Claims every group asked for meanwhile in one write: a storm's rounds start together, and one
   * ConfigMap written by all of them at once would spend its attempts on 409s.
   */
  async #claimAll(): Promise<void> {
    while (this.#claims.length > 0) {
      const batch = this.#claims.splice(0);
      try {
        // Our own waiting marks first, so the records read below include them.
        await this.flush();
        const me = capText(this.identity, 128);
        const answers = await this.#cm.update((data) => {
          const now = this.#now();
          const out = new Map<string, RoundStart>();
          for (const { key, groupKey } of batch) {
            if (out.has(key)) {
              out.set(key, { busy: this.identity });
              continue;
            }
            const theirs = data[key] === undefined ? undefined : decodeRecord(data[key]);
            if (theirs?.lock && theirs.lock.by !== me && theirs.lock.until > now) {
              out.set(key, { busy: theirs.lock.by });
              continue;
            }
            // No record: a claim without a thread (threadTs ""), created only if nobody else created one meanwhile.
            const rec: ThreadRecord = theirs ?? { groupKey, channel: '', threadTs: '', createdAt: now, updatedAt: now, alerts: {} };
            rec.lock = { by: this.identity, until: now + this.#claimTtlMs };
            data[key] = encodeRecord(rec);
            out.set(key, { rec: { ...rec, groupKey } });
          }
          return out;
        });
        this.#lastRead = this.#now();
        for (const c of batch) {
          const a = answers.get(c.key)!;
          if (!('busy' in a) && a.rec) this.#cache.set(c.key, structuredClone(a.rec));
          c.resolve(a);
        }
      } catch (err) {
        for (const c of batch) c.reject(err);
      }
    }
  }

  async end(groupKey: string, rec: ThreadRecord | undefined): Promise<void> {
    const key = storeKey(groupKey);
    const ours = rec ? structuredClone(rec) : this.#cache.get(key);
    if (!ours) return;
    delete ours.lock;
    capAlerts(ours, this.#limits.maxAlertsPerGroup, recordBudget(this.#limits));
    this.#cache.set(key, ours);
    this.#dirty.set(key, ++this.#seq);
    try {
      // Written with the other pending changes; the write drops our claim (see #write).
      await this.flush();
    } catch (err) {
      // The claim then expires on its own (claimTtlMs) and the record is saved by the next write.
      this.#log.warn({ err: (err as Error).message }, `could not save an alert group in ${this.where}; will retry, and its claim expires on its own`);
      this.#schedule(5000);
    }
  }

  async put(rec: ThreadRecord, opts: { durable?: boolean } = {}): Promise<void> {
    const copy = structuredClone(rec);
    capAlerts(copy, this.#limits.maxAlertsPerGroup, recordBudget(this.#limits));
    const key = storeKey(rec.groupKey);
    // A claim is only released by end(); a round in progress renews it with every change it records.
    const held = this.#cache.get(key)?.lock;
    if (!copy.lock && held?.by === this.identity) copy.lock = held;
    if (copy.lock?.by === this.identity) copy.lock = { by: this.identity, until: this.#now() + this.#claimTtlMs };
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
        // Another replica's claim stays until it ends its round (or the claim expires).
        const me = capText(this.identity, 128);
        if (theirs?.lock && theirs.lock.by !== me && theirs.lock.until > this.#now()) ours.lock = theirs.lock;
        else if (ours.lock && ours.lock.by !== me) delete ours.lock;
        // Two writers of one group: keep the newer view, but never lose an alert either one posted.
        if (theirs && theirs.threadTs === ours.threadTs) {
          ours.alerts = { ...theirs.alerts, ...ours.alerts };
          // Nor a diagnosis headline either one found: theirs were there first.
          if (theirs.headlines?.length) ours.headlines = [...new Set([...theirs.headlines, ...(ours.headlines ?? [])])].slice(0, MAX_HEADLINES);
          // Nor an incident thread either one told: the note is posted once.
          if (theirs.incidents?.length) ours.incidents = [...new Set([...theirs.incidents, ...(ours.incidents ?? [])])].slice(-MAX_INCIDENT_LINKS);
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
