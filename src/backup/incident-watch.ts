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
import { diagnoseProblem } from './source-diagnosis.ts';
import type { ParentFacts } from './incident-messages.ts';
import { backAgainReply, changesReply, diagnosisReply, parentKey, parentMessage, recoveryReply } from './incident-messages.ts';
import { ms } from './objects.ts';

export interface IncidentWatchOptions {
  config: Pick<Config, 'watch' | 'backups' | 'alerts'>;
  store: IncidentStore;
  poster: Pick<ChannelPoster, 'post' | 'update'>;
  /** The Inventory from the watch cache, or undefined while it is not synced (then the round waits). */
  inventory: () => Inventory | undefined;
  /** For the diagnosis' doctor checks and stuck pods' events, read once per new incident. */
  kube?: Kube;
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

export class IncidentWatch {
  #o: IncidentWatchOptions;
  #now: () => number;
  #warnedNoChannel = false;

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
    const seen = new Set<string>();
    for (const p of problems) {
      seen.add(p.id);
      const rec = records.get(p.id);
      try {
        if (rec && rec.resolvedAt === undefined && rec.ts !== '') {
          if (await this.#follow(rec, p)) result.updated++;
        } else if (await this.#open(p, rec)) result.opened++;
      } catch (err) {
        this.#o.log.warn({ incident: p.id, err: (err as Error).message }, 'backup watch: could not post an incident; the next round tries again');
      }
    }
    const sources = new Map(inv.sources.map((s) => [`${s.metadata?.namespace}/${s.metadata?.name}`, s]));
    for (const rec of records.values()) {
      if (seen.has(rec.id) || rec.resolvedAt !== undefined || rec.ts === '') continue;
      try {
        await this.#resolve(rec, sources.get(rec.id.split('/').slice(0, 2).join('/')), now);
        result.resolved++;
      } catch (err) {
        this.#o.log.warn({ incident: rec.id, err: (err as Error).message }, 'backup watch: could not close an incident; the next round tries again');
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
      const diag = await diagnoseProblem(p, { ...(this.#o.kube ? { kube: this.#o.kube } : {}), pvcLabel: this.#o.config.backups.pvcLabel, now });
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
    await this.#reply(rec, changesReply(fresh));
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
    await this.#reply(rec, recoveryReply({ brokenMs, how, ...(detail ? { detail } : {}) }));
    const what = rec.what ?? rec.kind;
    const headline = rec.headline;
    const facts: ParentFacts = { namespace, name, what, since: rec.since, ...(headline ? { headline } : {}), state: how === 'paused' ? 'paused' : 'resolved', brokenMs };
    await this.#o.poster.update({ channel: rec.channel, ts: rec.ts, ...parentMessage(facts, now) });
    rec.resolvedAt = now;
    rec.parent = parentKey(facts);
    await this.#o.store.save(rec);
    this.#o.log.info({ incident: rec.id, how }, 'backup watch: incident closed');
  }

  async #reply(rec: IncidentRecord, r: Parameters<typeof renderBlocks>[0]): Promise<void> {
    await this.#o.poster.post({ channel: rec.channel, thread_ts: rec.ts, ...renderBlocks(r) });
  }
}
