/**
 * One round of posting for an alert group: find or open its thread, post what changed since the
 * thread last spoke (new and resolved alerts, batched), diagnose a few newly crash-looping pods,
 * update the parent (colour, counts, the pods and the diagnoses' headline), and tell the hooks. The thread map records each alert
 * as soon as the message naming it is posted, so a retried round never repeats a message.
 */
import type { Logger } from 'pino';
import type { ChannelPoster } from '../slack/poster.ts';
import { renderBlocks } from '../slack/render-blocks.ts';
import type { Block, Reply } from '../reply.ts';
import type { WebhookAlert } from './alertmanager-types.ts';
import type { GroupBatch } from './notification-queue.ts';
import type { ThreadRecord, ThreadStore } from './thread-store.ts';
import { addHeadline, alertKey, MAX_INCIDENT_LINKS } from './thread-store.ts';
import type { AlertHooks, CrashAlertEvent } from './hooks.ts';
import type { AlertRoute } from './alert-routing.ts';
import { channelFor, groupLabelsOf } from './alert-routing.ts';
import type { ListedChange } from './alert-messages.ts';
import { ALERTS_PER_REPLY, listReply, parentMessage } from './alert-messages.ts';
import type { Diagnosing } from './diagnoser.ts';
import { backupAlertTarget } from './backup-alert-target.ts';
import type { BackupAlertTarget } from './backup-alert-target.ts';
import type { IncidentLinks } from './incident-links.ts';
import { alertNoteReply, incidentLinkBlock, incidentNoteKey } from './incident-links.ts';
import type { IncidentRecord } from '../backup/incident-store.ts';

export interface NotifierDeps {
  poster: ChannelPoster;
  store: ThreadStore;
  log: Logger;
  routes: readonly AlertRoute[];
  defaultChannel: string | undefined;
  /** Recognises a crash-loop alert by its labels (alerts.watchPattern on alertname and reason). */
  isCrashLoop: (labels: Record<string, string>) => boolean;
  diagnoser: Diagnosing;
  hooks: () => readonly AlertHooks[];
  /** Diagnoses per round; the other alerts are listed. A storm stays readable. */
  maxDiagnoses: number;
  /** Limits diagnoses per thread over time (default: 10 an hour). */
  budget?: DiagnosisBudget;
  /** The backup watch's incidents, when it runs: an alert about a source and its incident link each other. */
  incidents?: IncidentLinks;
  now?: () => Date;
}

/**
 * How many diagnoses a thread still gets: a mass restart shows the first few pods in full and
 * lists the rest, instead of a thread of a hundred near-identical diagnoses.
 */
export class DiagnosisBudget {
  #perWindow: number;
  #windowMs: number;
  #spent = new Map<string, number[]>();

  constructor(opts: { perWindow?: number; windowMs?: number } = {}) {
    this.#perWindow = opts.perWindow ?? 10;
    this.#windowMs = opts.windowMs ?? 3600_000;
  }

  left(groupKey: string, now: number): number {
    const recent = (this.#spent.get(groupKey) ?? []).filter((t) => now - t < this.#windowMs);
    if (recent.length) this.#spent.set(groupKey, recent);
    else this.#spent.delete(groupKey);
    return Math.max(0, this.#perWindow - recent.length);
  }

  spend(groupKey: string, now: number): void {
    const list = this.#spent.get(groupKey) ?? [];
    list.push(now);
    this.#spent.set(groupKey, list);
  }
}

/** A channel with this many messages waiting is in a storm: one diagnosis per round there. */
const STORM_DEPTH = 5;

/** A group that no channel is configured for: logged and counted, not retried. */
export class UnroutableGroup extends Error {
  override name = 'UnroutableGroup';
}

export function crashLoopMatcher(pattern: RegExp): (labels: Record<string, string>) => boolean {
  return (labels) => [labels['alertname'], labels['reason']].some((v) => v !== undefined && pattern.test(v));
}

function diagnosable(a: WebhookAlert): boolean {
  return Boolean(a.labels['namespace'] && a.labels['pod']);
}

/** Another replica is posting this group's round right now: try again in a moment (its marks will be there). */
export class GroupBusy extends Error {
  override name = 'GroupBusy';
}

export async function notifyGroup(batch: GroupBatch, deps: NotifierDeps): Promise<{ posted: number; changes: number }> {
  const start = await deps.store.begin(batch.groupKey);
  if ('busy' in start) throw new GroupBusy(`alert group ${batch.groupKey.slice(0, 200)} is being posted by ${start.busy}`);
  let rec = start.rec;
  try {
    const result = await notifyRound(batch, deps, rec, (r) => { rec = r; });
    return result;
  } finally {
    await deps.store.end(batch.groupKey, rec);
  }
}

async function notifyRound(batch: GroupBatch, deps: NotifierDeps, found: ThreadRecord | undefined, opened: (r: ThreadRecord) => void): Promise<{ posted: number; changes: number }> {
  const now = deps.now?.() ?? new Date();
  const { poster, store, log } = deps;
  let rec = found;
  const channel = rec?.channel ?? channelFor(groupLabelsOf(batch), deps.routes, deps.defaultChannel);
  if (!channel) throw new UnroutableGroup(`no channel for alert group ${batch.groupKey.slice(0, 200)}: set alerts.channel or add a matching alerts.routes entry`);

  const changes: ListedChange[] = [];
  for (const a of batch.alerts.values()) {
    const prev = rec?.alerts[alertKey(a.fingerprint)];
    if (a.status === 'firing' && prev !== 'f') changes.push({ alert: a, kind: 'firing' });
    else if (a.status === 'resolved' && prev !== 'r') changes.push({ alert: a, kind: 'resolved' });
  }
  const counts = () => {
    const states = Object.values(rec?.alerts ?? {});
    return { firing: states.filter((s) => s === 'f').length, resolved: states.filter((s) => s === 'r').length };
  };
  let posted = 0;

  if (!rec) {
    const pending = { firing: changes.filter((c) => c.kind === 'firing').length, resolved: changes.filter((c) => c.kind === 'resolved').length };
    const res = await poster.post({ channel, ...parentMessage(batch, pending, now), unfurl_links: false });
    posted++;
    rec = { groupKey: batch.groupKey, channel, receiver: batch.receiver, groupLabels: batch.groupLabels, threadTs: res.ts!, createdAt: now.getTime(), updatedAt: now.getTime(), alerts: {} };
    opened(rec);
    await store.put(rec, { durable: true });
  }
  const thread: ThreadRecord = rec;
  // The open incidents about the sources this group's firing alerts are about (read once per round).
  const incidents = await openIncidents(batch, deps);
  if (changes.length === 0) {
    posted += await noteIncidents(batch, deps, thread, incidents, new Set());
    return { posted, changes: 0 };
  }

  const mark = async (list: ListedChange[]) => {
    for (const c of list) thread.alerts[alertKey(c.alert.fingerprint)] = c.kind === 'firing' ? 'f' : 'r';
    thread.updatedAt = now.getTime();
    await store.put(thread);
  };
  const event = (c: ListedChange): CrashAlertEvent => ({
    groupKey: batch.groupKey,
    channel,
    threadTs: thread.threadTs,
    status: c.kind,
    labels: c.alert.labels,
    startsAt: c.alert.startsAt,
    ...(c.kind === 'resolved' ? { endsAt: c.alert.endsAt } : {}),
    fingerprint: alertKey(c.alert.fingerprint),
    receivedAt: batch.receivedAt,
  });

  // Newly crash-looping pods get a diagnosis of their own (a few per round); the rest are listed.
  const seenPods = new Set<string>();
  const diagnosed: ListedChange[] = [];
  const storm = poster.depthFor(channel) >= STORM_DEPTH;
  const allowed = Math.min(storm ? 1 : deps.maxDiagnoses, deps.budget ? deps.budget.left(batch.groupKey, now.getTime()) : Infinity);
  // Alerts about a backup (VolSync's metrics, a mover Job or pod) get the source's diagnosis, once per source.
  const backupOf = (a: WebhookAlert) => backupAlertTarget(a.labels, deps.isCrashLoop(a.labels));
  const wantsDiagnosis = (a: WebhookAlert) => backupOf(a) !== undefined || (diagnosable(a) && deps.isCrashLoop(a.labels));
  for (const c of changes) {
    if (diagnosed.length >= allowed) break;
    if (c.kind !== 'firing' || !wantsDiagnosis(c.alert)) continue;
    const b = backupOf(c.alert);
    const key = b ? `backup:${b.kind}:${b.namespace}/${b.name}` : `${c.alert.labels['namespace']}/${c.alert.labels['pod']}/${c.alert.labels['container'] ?? ''}`;
    if (seenPods.has(key)) continue;
    seenPods.add(key);
    diagnosed.push(c);
  }
  const listed = changes.filter((c) => !diagnosed.includes(c));
  const common = batch.commonLabels;
  const parts = Math.ceil(listed.length / ALERTS_PER_REPLY);
  const undiagnosed = listed.some((c) => c.kind === 'firing' && wantsDiagnosis(c.alert) && !backupOf(c.alert));
  const note = undiagnosed ? 'Crash-looping pods beyond the first few are listed, not diagnosed, to keep the thread readable.' : undefined;
  for (let i = 0; i < parts; i++) {
    const chunk = listed.slice(i * ALERTS_PER_REPLY, (i + 1) * ALERTS_PER_REPLY);
    await poster.post({ channel, thread_ts: thread.threadTs, ...renderBlocks(listReply(chunk, common, now, { index: i + 1, of: parts }, note)), unfurl_links: false });
    posted++;
    await mark(chunk);
  }
  const linked = new Set<string>();
  for (const c of diagnosed) {
    const b = backupOf(c.alert);
    if (b) {
      deps.budget?.spend(batch.groupKey, now.getTime());
      const r = await deps.diagnoser.diagnoseBackup(b, c.alert.labels);
      // The incident about the same source: its thread is where the follow-up is.
      const inc = b.kind === 'source' ? incidents.get(sourceKey(b)) : undefined;
      if (inc && deps.incidents) {
        const link = await deps.incidents.link(inc, 'incident thread');
        r.blocks.splice(1, 0, incidentLinkBlock(inc, link, now.getTime()));
        linked.add(incidentNoteKey(inc));
      }
      await poster.post({ channel, thread_ts: thread.threadTs, ...renderBlocks(r), unfurl_links: false });
      posted++;
      addHeadline(thread, r.headline);
      await mark([c]);
      continue;
    }
    const e = event(c);
    const lead: Block[] = [];
    for (const h of deps.hooks()) {
      if (!h.annotate) continue;
      try {
        lead.push(...((await h.annotate(e)) ?? []));
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'an alert annotate hook failed; posting the diagnosis without it');
      }
    }
    const l = c.alert.labels;
    deps.budget?.spend(batch.groupKey, now.getTime());
    const r = await deps.diagnoser.diagnose({ namespace: l['namespace']!, pod: l['pod']!, ...(l['container'] ? { container: l['container'] } : {}), labels: l, lead });
    await poster.post({ channel, thread_ts: thread.threadTs, ...renderBlocks(r), unfurl_links: false });
    posted++;
    // Saved with the mark: the parent keeps naming the cause after a restart or on another replica.
    addHeadline(thread, r.headline);
    await mark([c]);
  }

  posted += await noteIncidents(batch, deps, thread, incidents, linked);

  // The parent shows the group's state now; a failed update is corrected by the next one.
  poster.update({ channel, ts: thread.threadTs, ...parentMessage(batch, counts(), now, { headlines: thread.headlines }) }).catch((err: unknown) => {
    log.warn({ err: (err as Error).message, channel }, 'could not update an alert thread\'s parent message');
  });

  for (const c of changes) {
    if (!deps.isCrashLoop(c.alert.labels)) continue;
    for (const h of deps.hooks()) {
      try {
        h.observed?.(event(c));
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'an alert observed hook failed');
      }
    }
  }
  return { posted, changes: changes.length };
}

const sourceKey = (t: BackupAlertTarget) => `${t.namespace}/${t.name}`;

/** The sources this group's firing alerts are about, with the alert naming each first. */
function firingSources(batch: GroupBatch, isCrashLoop: (l: Record<string, string>) => boolean): Map<string, WebhookAlert> {
  const out = new Map<string, WebhookAlert>();
  for (const a of batch.alerts.values()) {
    if (a.status !== 'firing') continue;
    const t = backupAlertTarget(a.labels, isCrashLoop(a.labels));
    if (t?.kind === 'source' && !out.has(sourceKey(t))) out.set(sourceKey(t), a);
  }
  return out;
}

async function openIncidents(batch: GroupBatch, deps: NotifierDeps): Promise<Map<string, IncidentRecord>> {
  if (!deps.incidents) return new Map();
  const sources = [...firingSources(batch, deps.isCrashLoop).keys()];
  if (!sources.length) return new Map();
  try {
    return await deps.incidents.openFor(sources);
  } catch (err) {
    // The alert's own thread does not wait for the watch's store.
    deps.log.warn({ err: (err as Error).message }, 'could not read the backup incidents; the alert thread is posted without their links');
    return new Map();
  }
}

/**
 * Tells each open incident's thread about this alert group, once: one line linking the alert
 * thread. An incident whose link no diagnosis carried this round (it opened after the alert's
 * diagnosis) gets its link into the alert thread too. The record is saved before the next note, so
 * a restart or another replica does not repeat it; a failed note is tried again next round.
 */
async function noteIncidents(batch: GroupBatch, deps: NotifierDeps, thread: ThreadRecord, incidents: Map<string, IncidentRecord>, linked: Set<string>): Promise<number> {
  const links = deps.incidents;
  if (!links || incidents.size === 0) return 0;
  const now = (deps.now?.() ?? new Date()).getTime();
  const alertOf = firingSources(batch, deps.isCrashLoop);
  let posted = 0;
  for (const [src, inc] of incidents) {
    const key = incidentNoteKey(inc);
    if (thread.incidents?.includes(key)) continue;
    try {
      if (!linked.has(key)) {
        const r: Reply = { text: `Backup incident open for ${src}`, blocks: [incidentLinkBlock(inc, await links.link(inc, 'incident thread'), now)], visibility: 'channel' };
        await deps.poster.post({ channel: thread.channel, thread_ts: thread.threadTs, ...renderBlocks(r), unfurl_links: false });
        posted++;
      }
      const note = alertNoteReply(alertOf.get(src)?.labels['alertname'], await links.link({ channel: thread.channel, ts: thread.threadTs }, 'alert thread'));
      await deps.poster.post({ channel: inc.channel, thread_ts: inc.ts, ...renderBlocks(note), unfurl_links: false });
      posted++;
      thread.incidents = [...(thread.incidents ?? []), key].slice(-MAX_INCIDENT_LINKS);
      await deps.store.put(thread, { durable: true });
    } catch (err) {
      deps.log.warn({ incident: inc.id, err: (err as Error).message }, 'could not link an alert thread and its backup incident; the next notification tries again');
    }
  }
  return posted;
}
