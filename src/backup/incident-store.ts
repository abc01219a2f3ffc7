/**
 * Backup incidents → their Slack threads, kept in a ConfigMap in the bot's namespace (as the
 * alert threads are, src/alerts/thread-store.ts) so a restart, a rolling update or a second
 * replica never posts an incident twice:
 * - claim(): before posting a new parent, the incident's key is created in the map with a claim;
 *   the write carries the resourceVersion it read (src/kube/configmap-data.ts), so of two replicas
 *   one creates it and the other sees it taken. A resolved incident that comes back within the
 *   flap window is re-claimed with its thread, so it continues there.
 * - save(): every later change is written on the data as the cluster holds it now, and refused
 *   when another writer's thread replaced ours.
 * - a byte budget: resolved incidents go first (oldest resolution first), open ones only if
 *   the map would otherwise not fit.
 * Without a cluster (the terminal, unit tests) the same logic runs on a map in memory.
 */
import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Kube } from '../kube/client.ts';
import { ConfigMapData } from '../kube/configmap-data.ts';
import { capText } from '../alerts/thread-store.ts';
import type { ProblemKind } from './incidents.ts';

export interface IncidentRecord {
  /** `namespace/name/kind` (see problemId). */
  id: string;
  kind: ProblemKind;
  channel: string;
  /** The parent message; "" while claimed and not posted yet. */
  ts: string;
  /** When the bot opened the incident (its first post), and when the problem began. */
  openedAt: number;
  since: number;
  /** The parent line's words as last posted (mrkdwn), so an unchanged parent is not updated. */
  parent?: string;
  /** The problem and its cause as the parent says them (mrkdwn). */
  what?: string;
  headline?: string;
  /** Short hashes of the facts already in the thread. */
  facts: string[];
  resolvedAt?: number;
  /** Part of a storm: the thread (ts) is shared by this many sources with one cause, posted as one parent. */
  group?: number;
  /** The replica posting it now and until when that claim holds. */
  claim?: { by: string; until: number };
}

export interface ClaimAsk {
  id: string;
  kind: ProblemKind;
  channel: string;
  since: number;
  /** false: never continue a resolved incident's thread (default: within the flap window). */
  reuse?: boolean;
}

export type ClaimResult =
  /** Ours to post: `rec.ts` is "" for a new thread, the old thread's ts for a flap within the window. */
  | { claimed: IncidentRecord }
  /** Someone already posted it (or is posting it now): follow that record, post nothing new. */
  | { taken: IncidentRecord };

export interface IncidentLimits {
  /** UTF-8 bytes of the whole map (a ConfigMap holds 1 MiB in all). */
  maxBytes: number;
  /** Resolved incidents are forgotten after this long. */
  resolvedTtlMs: number;
  /** A problem that comes back within this long after recovery continues in the same thread. */
  flapMs: number;
  /** A claim not followed by a post within this long is taken over (its replica died). */
  claimTtlMs: number;
}

export const DEFAULT_INCIDENT_LIMITS: IncidentLimits = { maxBytes: 512 * 1024, resolvedTtlMs: 7 * 24 * 3600_000, flapMs: 3600_000, claimTtlMs: 60_000 };

const MAX_FACTS = 64;

export const incidentKey = (id: string): string => `i.${createHash('sha256').update(id, 'utf8').digest('hex').slice(0, 40)}`;
export const factHash = (fact: string): string => createHash('sha256').update(fact, 'utf8').digest('hex').slice(0, 10);

interface Stored {
  i: string; k: ProblemKind; c: string; t: string; o: number; s: number; f: string[];
  p?: string; w?: string; h?: string; r?: number; g?: number; l?: { b: string; u: number };
}

export function encodeIncident(r: IncidentRecord): string {
  const s: Stored = {
    i: capText(r.id), k: r.kind, c: r.channel, t: r.ts, o: r.openedAt, s: r.since, f: r.facts.slice(-MAX_FACTS),
    ...(r.parent !== undefined ? { p: capText(r.parent, 600) } : {}),
    ...(r.what !== undefined ? { w: capText(r.what, 200) } : {}),
    ...(r.headline !== undefined ? { h: capText(r.headline, 300) } : {}),
    ...(r.resolvedAt !== undefined ? { r: r.resolvedAt } : {}),
    ...(r.group !== undefined ? { g: r.group } : {}),
    ...(r.claim ? { l: { b: capText(r.claim.by, 128), u: r.claim.until } } : {}),
  };
  return JSON.stringify(s);
}

export function decodeIncident(text: string | undefined): IncidentRecord | undefined {
  if (text === undefined) return undefined;
  try {
    const s = JSON.parse(text) as Partial<Stored>;
    if (typeof s.i !== 'string' || typeof s.c !== 'string' || typeof s.t !== 'string' || typeof s.o !== 'number' || typeof s.s !== 'number') return undefined;
    return {
      id: s.i, kind: s.k as ProblemKind, channel: s.c, ts: s.t, openedAt: s.o, since: s.s, facts: Array.isArray(s.f) ? s.f.filter((x) => typeof x === 'string') : [],
      ...(typeof s.p === 'string' ? { parent: s.p } : {}),
      ...(typeof s.w === 'string' ? { what: s.w } : {}),
      ...(typeof s.h === 'string' ? { headline: s.h } : {}),
      ...(typeof s.r === 'number' ? { resolvedAt: s.r } : {}),
      ...(typeof s.g === 'number' ? { group: s.g } : {}),
      ...(s.l && typeof s.l.b === 'string' && typeof s.l.u === 'number' ? { claim: { by: s.l.b, until: s.l.u } } : {}),
    };
  } catch {
    return undefined;
  }
}

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

/** Expiry and the byte budget, in place: resolved incidents first (oldest resolution first), then the oldest open ones. */
export function pruneIncidents(data: Record<string, string>, limits: IncidentLimits, now: number): string[] {
  const removed: string[] = [];
  const live: Array<{ key: string; rec: IncidentRecord }> = [];
  for (const [key, text] of Object.entries(data)) {
    if (!key.startsWith('i.')) continue;
    const rec = decodeIncident(text);
    if (!rec || (rec.resolvedAt !== undefined && now - rec.resolvedAt > limits.resolvedTtlMs)) {
      delete data[key];
      removed.push(key);
      continue;
    }
    live.push({ key, rec });
  }
  const order = (r: IncidentRecord) => (r.resolvedAt !== undefined ? [0, r.resolvedAt] : [1, r.openedAt]);
  live.sort((a, b) => {
    const [ga, ta] = order(a.rec);
    const [gb, tb] = order(b.rec);
    return ga! - gb! || ta! - tb!;
  });
  let total = Object.entries(data).reduce((n, [k, v]) => n + bytes(k) + bytes(v) + 8, 0);
  while (live.length > 0 && total > limits.maxBytes) {
    const { key } = live.shift()!;
    total -= bytes(key) + bytes(data[key] ?? '') + 8;
    delete data[key];
    removed.push(key);
  }
  return removed;
}

/** Where the map lives: ConfigMapData, or the same shape in memory. */
export interface IncidentBackend {
  read(): Promise<Record<string, string>>;
  update<T>(change: (data: Record<string, string>) => T): Promise<T>;
}

export class MemoryBackend implements IncidentBackend {
  data: Record<string, string> = {};
  async read() {
    return { ...this.data };
  }
  async update<T>(change: (data: Record<string, string>) => T): Promise<T> {
    const copy = { ...this.data };
    const out = change(copy);
    this.data = copy;
    return out;
  }
}

export interface IncidentStoreOptions {
  limits?: Partial<IncidentLimits>;
  now?: () => number;
  /** This replica, in claims (default: host name and a random suffix). */
  identity?: string;
}

export class IncidentStore {
  #backend: IncidentBackend;
  #limits: IncidentLimits;
  #now: () => number;
  readonly identity: string;
  readonly where: string;

  constructor(backend: IncidentBackend, where: string, opts: IncidentStoreOptions = {}) {
    this.#backend = backend;
    this.where = where;
    this.#limits = { ...DEFAULT_INCIDENT_LIMITS, ...opts.limits };
    this.#now = opts.now ?? Date.now;
    this.identity = capText(opts.identity ?? `${hostname()}-${randomBytes(4).toString('hex')}`, 128);
  }

  static inMemory(opts: IncidentStoreOptions = {}): IncidentStore {
    return new IncidentStore(new MemoryBackend(), 'memory', opts);
  }

  static inConfigMap(kube: Kube, o: { namespace: string; name?: string } & IncidentStoreOptions): IncidentStore {
    const cm = new ConfigMapData(kube, { namespace: o.namespace, name: o.name ?? 'backup-bot-incidents' });
    return new IncidentStore(cm, cm.where, o);
  }

  get limits(): IncidentLimits {
    return this.#limits;
  }

  /** Every incident known, as the cluster holds them now. */
  async all(): Promise<IncidentRecord[]> {
    const data = await this.#backend.read();
    return Object.entries(data).filter(([k]) => k.startsWith('i.')).map(([, v]) => decodeIncident(v)).filter((r): r is IncidentRecord => r !== undefined);
  }

  /**
   * Claims an incident before its parent is posted. Answers `claimed` with the record to post
   * (a new one, or a resolved one within the flap window with its thread), or `taken` when it is
   * open already or another replica's claim on it still holds.
   */
  async claim(o: ClaimAsk): Promise<ClaimResult> {
    return (await this.claimMany([o]))[0]!;
  }

  /** claim() for many incidents in one write (a storm opens hundreds at once). */
  async claimMany(asks: readonly ClaimAsk[]): Promise<ClaimResult[]> {
    return this.#backend.update((data): ClaimResult[] => {
      const now = this.#now();
      const out = asks.map((o): ClaimResult => {
        const key = incidentKey(o.id);
        const cur = decodeIncident(data[key]);
        const claim = { by: this.identity, until: now + this.#limits.claimTtlMs };
        if (cur && cur.resolvedAt === undefined) {
          const stale = cur.ts === '' && cur.claim !== undefined && cur.claim.by !== this.identity && cur.claim.until <= now;
          if (!stale) return { taken: cur };
        }
        const flap = o.reuse !== false && cur?.resolvedAt !== undefined && cur.ts !== '' && cur.group === undefined && now - cur.resolvedAt <= this.#limits.flapMs;
        const rec: IncidentRecord = flap
          ? { ...cur!, since: Math.min(cur!.since, o.since), claim }
          : { id: o.id, kind: o.kind, channel: o.channel, ts: '', openedAt: now, since: o.since, facts: [], claim };
        if (flap) delete rec.resolvedAt;
        data[key] = encodeIncident(rec);
        return { claimed: rec };
      });
      pruneIncidents(data, this.#limits, now);
      return out;
    });
  }

  /**
   * Saves a change to an incident this replica posted. False (and nothing written) when the stored
   * incident now belongs to another thread: another writer replaced it, and its thread wins.
   */
  async save(rec: IncidentRecord): Promise<boolean> {
    return (await this.saveMany([rec]))[0]!;
  }

  /** save() for many incidents in one write. */
  async saveMany(recs: readonly IncidentRecord[]): Promise<boolean[]> {
    return this.#backend.update((data) => {
      const now = this.#now();
      const out = recs.map((rec) => {
        const key = incidentKey(rec.id);
        const cur = decodeIncident(data[key]);
        if (cur && cur.ts !== '' && cur.ts !== rec.ts) return false;
        if (cur && cur.ts === '' && cur.claim && cur.claim.by !== this.identity && cur.claim.until > now) return false;
        const copy = { ...rec };
        delete copy.claim;
        data[key] = encodeIncident(copy);
        return true;
      });
      pruneIncidents(data, this.#limits, now);
      return out;
    });
  }

  /** Gives up a claim that was never posted (the post failed): the next round claims it again. */
  async release(rec: IncidentRecord): Promise<void> {
    const key = incidentKey(rec.id);
    await this.#backend.update((data) => {
      const cur = decodeIncident(data[key]);
      if (cur?.ts === '' && cur.claim?.by === this.identity) delete data[key];
      else if (cur && cur.ts === rec.ts && cur.claim?.by === this.identity) {
        delete cur.claim;
        data[key] = encodeIncident(cur);
      }
    });
  }
}
