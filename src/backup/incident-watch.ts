/**
 * One round of the backup watch: the problems now (incidents.ts, on the watch cache's
 * Inventory) against the incidents the store holds → new parents and their diagnosis, changed
 * facts into existing threads, recovered ones closed and their parents turned green. When to run
 * a round is schedules/backup-watch.ts's business; this only reconciles, and every round does the
 * same from the same facts, so a round that runs twice or after a restart posts nothing twice.
 */
import type { Logger } from 'pino';
import type { ChannelPoster } from '../slack/poster.ts';
import { renderBlocks } from '../slack/render-blocks.ts';
import type { Kube } from '../kube/client.ts';
import type { Config } from '../config.ts';
import { channelFor } from '../alerts/alert-routing.ts';
import type { Inventory } from './inventory.ts';
import { detectProblems, watchSettings } from './incidents.ts';
import type { Problem } from './incidents.ts';
import type { IncidentRecord, IncidentStore } from './incident-store.ts';
import { factHash } from './incident-store.ts';
import { classifyMoverLog, diagnoseProblem } from './source-diagnosis.ts';
import type { DiagnosisDeps } from './source-diagnosis.ts';
import { readDoctorInput } from './doctor.ts';
import type { DoctorInput } from './doctor.ts';
import type { ParentFacts } from './incident-messages.ts';
import { backAgainReply, changesReply, diagnosisReply, parentKey, parentMessage, recoveryReply, stormListReplies, stormParentMessage, chunkLines } from './incident-messages.ts';
import { duration, whenIn } from '../text.ts';
import { pausedLine } from '../volsync/pause.ts';
import { ms } from './objects.ts';

export interface IncidentWatchOptions {
  config: Pick<Config, 'watch' | 'backups' | 'alerts'>;
  store: IncidentStore;
  poster: Pick<ChannelPoster, 'post' | 'update'>;
  /** The Inventory from the watch cache, or undefined while it is not synced (then the round waits). */
  inventory: () => Inventory | undefined;
  /** For the diagnosis' doctor checks and stuck pods' events, read once per new incident. */
  kube?: Kube;
  /** The repository's locks and the buttons for them, for a mover that failed on a lock (see DiagnosisDeps). */
  lockEvidence?: DiagnosisDeps['lockEvidence'];
  log: Logger;
  now?: () => number;
}

export interface RoundResult {
  opened: number;
  updated: number;
  resolved: number;
  /** Problems seen this round. */
  problems: number;
  skipped?: 'not synced' | 'no channel';
}

/**
 * A fact as the thread remembers it: without the ages that grow every round ("for 3h" → "for 4h"),
 * so only a change of substance is posted again.
 */
export function factShape(fact: string): string {
  return fact.replace(/\b\d+[dhms]( \d+[dhms])?\b/g, '#');
}

/** This many new incidents with one cause in one round (and one channel) are posted as one storm parent. */
export const STORM_MIN = 5;

/** The cause new incidents are grouped by: the classified mover log for failures, else the problem itself. */
function quickCause(p: Problem): string {
  const logs = p.health?.source.status?.latestMoverStatus?.logs;
  if (p.kind === 'failing' && p.health?.result === 'Failed' && typeof logs === 'string') {
    return classifyMoverLog(logs, { namespace: p.namespace, name: p.name, pods: p.health.pods })?.headline ?? p.what;
  }
  return p.what;
}

export class IncidentWatch {
  #o: IncidentWatchOptions;
  #now: () => number;
  #warnedNoChannel = false;
  #doctorInput: ((namespace: string) => Promise<DoctorInput>) | undefined;

  constructor(o: IncidentWatchOptions) {
    this.#o = o;
    this.#now = o.now ?? Date.now;
  }

  channelFor(namespace: string): string | undefined {
    const c = this.#o.config;
    return channelFor({ namespace }, c.alerts.routes, c.watch.channel ?? c.alerts.channel);
  }

  async round(): Promise<RoundResult> {
    const inv = this.#o.inventory();
    const result: RoundResult = { opened: 0, updated: 0, resolved: 0, problems: 0 };
    if (!inv) return { ...result, skipped: 'not synced' };
    const now = this.#now();
    const { problems, notes } = detectProblems(inv, now, watchSettings(this.#o.config));
    for (const n of notes) this.#o.log.warn({ note: n }, 'backup watch: a source could not be judged');
    result.problems = problems.length;
    const records = new Map((await this.#o.store.all()).map((r) => [r.id, r]));
    // One doctor read per namespace and round, however many of its sources open an incident.
    const doctor = new Map<string, Promise<DoctorInput>>();
    const kube = this.#o.kube;
    this.#doctorInput = kube ? (ns) => {
      let p = doctor.get(ns);
      if (!p) doctor.set(ns, (p = readDoctorInput(kube, ns, this.#o.config.backups.pvcLabel)));
      return p;
    } : undefined;
    const seen = new Set<string>();
    // New incidents, grouped by channel and cause: a shared outage is one parent, not hundreds.
    const storms = new Map<string, { channel: string; cause: string; members: Problem[] }>();
    for (const p of problems) {
      seen.add(p.id);
      const rec = records.get(p.id);
      const open = rec && rec.resolvedAt === undefined && rec.ts !== '';
      const flap = rec?.resolvedAt !== undefined && rec.ts !== '' && rec.group === undefined && now - rec.resolvedAt <= this.#o.store.limits.flapMs;
      if (!open && !flap) {
        const channel = this.channelFor(p.namespace);
        if (channel) {
          const cause = quickCause(p);
          const key = `${channel}|${p.kind}|${cause}`;
          const s = storms.get(key) ?? { channel, cause, members: [] };
          s.members.push(p);
          storms.set(key, s);
          continue;
        }
      }
      try {
        if (open) {
          if (await this.#follow(rec, p)) result.updated++;
        } else if (await this.#open(p, rec)) result.opened++;
      } catch (err) {
        this.#o.log.warn({ incident: p.id, err: (err as Error).message }, 'backup watch: could not post an incident; the next round tries again');
      }
    }
    for (const storm of storms.values()) {
      const single = storm.members.length < STORM_MIN;
      for (const p of single ? storm.members : []) {
        try {
          if (await this.#open(p, records.get(p.id))) result.opened++;
        } catch (err) {
          this.#o.log.warn({ incident: p.id, err: (err as Error).message }, 'backup watch: could not post an incident; the next round tries again');
        }
      }
      if (single) continue;
      try {
        result.opened += await this.#openStorm(storm.channel, storm.cause, storm.members);
      } catch (err) {
        this.#o.log.warn({ sources: storm.members.length, err: (err as Error).message }, 'backup watch: could not post a storm of incidents; the next round tries again');
      }
    }
    const sources = new Map(inv.sources.map((s) => [`${s.metadata?.namespace}/${s.metadata?.name}`, s]));
    const stormEnds = new Map<string, IncidentRecord[]>();
    for (const rec of records.values()) {
      if (seen.has(rec.id) || rec.resolvedAt !== undefined || rec.ts === '') continue;
      if (rec.group !== undefined) {
        stormEnds.set(rec.ts, [...(stormEnds.get(rec.ts) ?? []), rec]);
        continue;
      }
      try {
        await this.#resolve(rec, sources.get(rec.id.split('/').slice(0, 2).join('/')), now);
        result.resolved++;
      } catch (err) {
        this.#o.log.warn({ incident: rec.id, err: (err as Error).message }, 'backup watch: could not close an incident; the next round tries again');
      }
    }
    for (const [ts, ended] of stormEnds) {
      try {
        const stillOpen = [...records.values()].filter((r) => r.ts === ts && r.resolvedAt === undefined && seen.has(r.id)).length;
        await this.#resolveStorm(ended, stillOpen, sources, now);
        result.resolved += ended.length;
      } catch (err) {
        this.#o.log.warn({ sources: ended.length, err: (err as Error).message }, 'backup watch: could not close incidents of a storm; the next round tries again');
      }
    }
    return result;
  }

  async #open(p: Problem, old: IncidentRecord | undefined): Promise<boolean> {
    const channel = old?.resolvedAt !== undefined && old.ts ? old.channel : this.channelFor(p.namespace);
    if (!channel) {
      if (!this.#warnedNoChannel) this.#o.log.warn('backup watch: no channel for incidents (set watch.channel or alerts.channel); nothing is posted');
      this.#warnedNoChannel = true;
      return false;
    }
    const claim = await this.#o.store.claim({ id: p.id, kind: p.kind, channel, since: p.since });
    if ('taken' in claim) return false;
    const rec = claim.claimed;
    let posted = false;
    try {
      const now = this.#now();
      const diag = await diagnoseProblem(p, { ...(this.#o.kube ? { kube: this.#o.kube } : {}), ...(this.#doctorInput ? { doctorInput: this.#doctorInput } : {}), ...(this.#o.lockEvidence ? { lockEvidence: this.#o.lockEvidence } : {}), pvcLabel: this.#o.config.backups.pvcLabel, now });
      const facts: ParentFacts = { namespace: p.namespace, name: p.name, what: p.what, since: rec.since, ...(diag.headline ? { headline: diag.headline } : {}), state: 'open' };
      if (rec.ts === '') {
        const res = await this.#o.poster.post({ channel: rec.channel, ...parentMessage(facts, now) });
        if (!res.ts) throw new Error('Slack answered without a message ts');
        rec.ts = res.ts;
        posted = true;
        // The facts go with the first save: another replica that reads the record before the
        // diagnosis is posted must not take them for news.
        rec.facts = p.facts.map((f) => factHash(factShape(f)));
        rec.parent = parentKey(facts);
        rec.what = p.what;
        if (diag.headline) rec.headline = diag.headline;
        // The thread must survive a restart before anything goes under it.
        if (!(await this.#o.store.save(rec))) return false;
        await this.#reply(rec, diagnosisReply(p, diag));
      } else {
        // A flap: the same thread, the parent red again.
        posted = true;
        await this.#o.poster.update({ channel: rec.channel, ts: rec.ts, ...parentMessage(facts, now) });
        rec.parent = parentKey(facts);
        rec.what = p.what;
        if (diag.headline) rec.headline = diag.headline;
        await this.#reply(rec, backAgainReply(p));
        const fresh = p.facts.filter((f) => !rec.facts.includes(factHash(factShape(f))));
        if (fresh.length) await this.#reply(rec, changesReply(fresh));
      }
      rec.facts = [...new Set([...rec.facts, ...p.facts.map((f) => factHash(factShape(f)))])];
      await this.#o.store.save(rec);
      this.#o.log.info({ incident: p.id, channel: rec.channel, ts: rec.ts }, 'backup watch: incident opened');
      return true;
    } catch (err) {
      if (!posted) await this.#o.store.release(rec).catch(() => undefined);
      throw err;
    }
  }

  /** New facts into the thread; nothing when nothing changed. */
  async #follow(rec: IncidentRecord, p: Problem): Promise<boolean> {
    const fresh = p.facts.filter((f) => !rec.facts.includes(factHash(factShape(f))));
    if (!fresh.length) return false;
    // In a storm's shared thread each change says whose it is.
    const [ns, name] = rec.id.split('/');
    await this.#reply(rec, changesReply(rec.group !== undefined ? fresh.map((f) => `*${ns}/${name}*: ${f}`) : fresh));
    rec.facts = [...new Set([...rec.facts, ...p.facts.map((f) => factHash(factShape(f)))])];
    await this.#o.store.save(rec);
    return true;
  }

  async #resolve(rec: IncidentRecord, source: Inventory['sources'][number] | undefined, now: number): Promise<void> {
    const [namespace = '', name = ''] = rec.id.split('/');
    const paused = source?.spec?.paused === true;
    const lastSync = ms(source?.status?.lastSyncTime);
    const healthy = rec.kind === 'unprotected' || (lastSync !== undefined && lastSync > rec.since);
    const how = paused ? 'paused' : source || rec.kind === 'unprotected' ? (healthy ? 'healthy' : 'gone') : 'gone';
    const end = how === 'healthy' && lastSync !== undefined && rec.kind !== 'unprotected' ? lastSync : now;
    const brokenMs = Math.max(0, end - rec.since);
    const detail = how === 'healthy'
      ? rec.kind === 'unprotected' ? 'a ReplicationSource backs this PVC up now' : `a successful sync at ${new Date(lastSync!).toISOString().replace(/\.\d+Z$/, 'Z')}`
      : !source && rec.kind !== 'unprotected' ? 'the ReplicationSource was deleted' : undefined;
    // Who paused it and when: the bot's own mark (src/volsync/pause.ts), else what the object says. The
    // reply says the age; the parent, which is not updated again, the instant.
    const pausedAgo = paused && source ? pausedLine(source, now) : undefined;
    const pausedSince = paused && source ? pausedLine(source, now, { at: (t) => whenIn(new Date(t), 'UTC', new Date(now)) }) : undefined;
    await this.#reply(rec, recoveryReply({ brokenMs, how, ...(detail ? { detail } : {}), ...(pausedAgo ? { paused: pausedAgo } : {}) }));
    const what = rec.what ?? rec.kind;
    const headline = rec.headline;
    const facts: ParentFacts = { namespace, name, what, since: rec.since, ...(headline ? { headline } : {}), state: how === 'paused' ? 'paused' : 'resolved', brokenMs, ...(pausedSince ? { paused: pausedSince } : {}) };
    await this.#o.poster.update({ channel: rec.channel, ts: rec.ts, ...parentMessage(facts, now) });
    rec.resolvedAt = now;
    rec.parent = parentKey(facts);
    await this.#o.store.save(rec);
    this.#o.log.info({ incident: rec.id, how }, 'backup watch: incident closed');
  }

  /** One parent for many sources with one cause: the list and one sample diagnosis in its thread. Returns how many incidents it opened. */
  async #openStorm(channel: string, cause: string, members: Problem[]): Promise<number> {
    const claims = await this.#o.store.claimMany(members.map((p) => ({ id: p.id, kind: p.kind, channel, since: p.since, reuse: false })));
    const mine = claims.flatMap((c, i) => ('claimed' in c && c.claimed.ts === '' ? [{ rec: c.claimed, p: members[i]! }] : []));
    if (!mine.length) return 0;
    const now = this.#now();
    const kind = mine[0]!.p.kind;
    const since = Math.min(...mine.map((m) => m.rec.since));
    const facts = { count: mine.length, total: mine.length, kind, cause, since, state: 'open' as const };
    let ts: string;
    try {
      const res = await this.#o.poster.post({ channel, ...stormParentMessage(facts, now) });
      if (!res.ts) throw new Error('Slack answered without a message ts');
      ts = res.ts;
    } catch (err) {
      for (const m of mine) await this.#o.store.release(m.rec).catch(() => undefined);
      throw err;
    }
    for (const m of mine) {
      Object.assign(m.rec, { ts, group: mine.length, what: m.p.what, headline: cause, parent: `storm|${cause}` });
      m.rec.facts = m.p.facts.map((f) => factHash(factShape(f)));
    }
    await this.#o.store.saveMany(mine.map((m) => m.rec));
    for (const r of stormListReplies(mine.map((m) => m.p), now)) await this.#o.poster.post({ channel, thread_ts: ts, ...renderBlocks(r) });
    // One diagnosis stands for all: they share the cause.
    const sample = mine[0]!.p;
    const diag = await diagnoseProblem(sample, { ...(this.#o.kube ? { kube: this.#o.kube } : {}), ...(this.#doctorInput ? { doctorInput: this.#doctorInput } : {}), ...(this.#o.lockEvidence ? { lockEvidence: this.#o.lockEvidence } : {}), pvcLabel: this.#o.config.backups.pvcLabel, now });
    await this.#o.poster.post({ channel, thread_ts: ts, ...renderBlocks(diagnosisReply(sample, diag)) });
    this.#o.log.info({ sources: mine.length, channel, ts, cause }, 'backup watch: storm opened as one incident thread');
    return mine.length;
  }

  /** Members of a storm that recovered this round: one reply listing them, and the parent's count (green once all are healthy). */
  async #resolveStorm(ended: IncidentRecord[], stillOpen: number, sources: Map<string, Inventory['sources'][number]>, now: number): Promise<void> {
    const first = ended[0]!;
    const lines = ended.map((rec) => {
      const [ns, name] = rec.id.split('/');
      const lastSync = ms(sources.get(`${ns}/${name}`)?.status?.lastSyncTime);
      const healthy = lastSync !== undefined && lastSync > rec.since;
      return `• *${ns}/${name}*: ${healthy ? `healthy again after ${duration(Math.max(0, lastSync - rec.since))}` : sources.has(`${ns}/${name}`) ? 'no longer seen' : 'source deleted'}`;
    });
    for (const [i, chunk] of chunkLines(lines, 2700).entries()) {
      const text = `${i === 0 ? `:large_green_circle: ${ended.length} recovered:\n` : ''}${chunk.join('\n')}`;
      await this.#o.poster.post({ channel: first.channel, thread_ts: first.ts, ...renderBlocks({ text: `${ended.length} recovered`, blocks: [{ type: 'section', text }], visibility: 'channel' }) });
    }
    const total = first.group ?? ended.length + stillOpen;
    const since = Math.min(...ended.map((r) => r.since));
    await this.#o.poster.update({ channel: first.channel, ts: first.ts, ...stormParentMessage({ count: stillOpen, total, kind: first.kind, cause: first.headline ?? '', since, state: stillOpen ? 'open' : 'resolved' }, now) });
    for (const rec of ended) rec.resolvedAt = now;
    await this.#o.store.saveMany(ended);
  }

  async #reply(rec: IncidentRecord, r: Parameters<typeof renderBlocks>[0]): Promise<void> {
    await this.#o.poster.post({ channel: rec.channel, thread_ts: rec.ts, ...renderBlocks(r) });
  }
}
