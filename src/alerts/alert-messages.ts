/**
 * The messages of an alert group's thread: the parent (state colour, counts, the affected pods,
 * the diagnosis' headline once known, summary; updated in place) and the batched replies that list alerts as they fire and resolve.
 */
import type { Block, Reply } from '../reply.ts';
import { safeLink } from '../reply.ts';
import { renderBlocks } from '../slack/render-blocks.ts';
import type { WebhookAlert } from './alertmanager-types.ts';
import type { GroupBatch } from './notification-queue.ts';
import { age, code, oneLine, timeIn } from './format.ts';

/** Alerts per list reply: about 60 characters each stays well inside one section's 3000. */
export const ALERTS_PER_REPLY = 40;

export interface GroupCounts {
  firing: number;
  resolved: number;
}

const COLOURS = { firing: '#E01E5A', resolved: '#2EB67D' };

/** "KubePodCrashLooping · namespace=media", from the group labels: mrkdwn, escaped and capped. */
export function groupTitle(b: Pick<GroupBatch, 'groupLabels' | 'commonLabels'>): string {
  const labels = Object.keys(b.groupLabels).length ? b.groupLabels : { alertname: b.commonLabels['alertname'] ?? 'Alert group' };
  const name = labels['alertname'] ?? b.commonLabels['alertname'];
  const rest = Object.entries(labels).filter(([k]) => k !== 'alertname').map(([k, v]) => `${k}=${v}`);
  return oneLine([name ?? 'Alert group', ...rest].join(' · '), 200);
}

/** One alert, short: `media/plex-…` (plex) when it names a pod, else its labels beyond the group's. */
export function alertName(a: WebhookAlert, common: Record<string, string>): string {
  const l = a.labels;
  if (l['pod']) return `${code(`${l['namespace'] ?? '?'}/${l['pod']}`, 120)}${l['container'] ? ` (${oneLine(l['container'], 60)})` : ''}`;
  const own = Object.entries(l).filter(([k, v]) => common[k] !== v && k !== 'alertname');
  const title = l['alertname'] && l['alertname'] !== common['alertname'] ? `${oneLine(l['alertname'], 100)} ` : '';
  return own.length ? `${title}${code(own.map(([k, v]) => `${k}=${v}`).join(', '), 120)}` : `${title}${code(a.fingerprint, 40)}`;
}

function summaryOf(a: Pick<WebhookAlert, 'annotations'>): string | undefined {
  return a.annotations['summary'] ?? a.annotations['description'] ?? a.annotations['message'];
}

/** Pods named in the parent before "and N more". */
export const PARENT_PODS = 5;

/**
 * The pods the group is about: the firing ones (all of them once none fires), as `namespace/pod`,
 * each once, in the order Alertmanager sent them.
 */
export function affectedPods(b: Pick<GroupBatch, 'alerts'>): string[] {
  const all = [...b.alerts.values()].filter((a) => a.labels['pod']);
  const firing = all.filter((a) => a.status === 'firing');
  return [...new Set((firing.length ? firing : all).map((a) => `${a.labels['namespace'] ?? '?'}/${a.labels['pod']}`))];
}

/** "`media/plex-…`, `media/sonarr-…` and 3 more": labels are outside text, each escaped and capped. */
export function podList(pods: readonly string[], max = PARENT_PODS): string {
  const shown = pods.slice(0, max).map((p) => code(p, 120));
  const more = pods.length - shown.length;
  return `${shown.join(', ')}${more > 0 ? ` and ${more} more` : ''}`;
}

/** What the thread has found so far: the diagnoses' headlines, first one first. */
export interface ParentFindings {
  headlines?: readonly string[];
}

/** "OOMKilled at 256Mi: raise to 512Mi (and 1 other cause in the thread)", or undefined before any diagnosis. */
export function headlineText(headlines: readonly string[] | undefined): string | undefined {
  if (!headlines?.length) return undefined;
  const others = headlines.length - 1;
  return `${oneLine(headlines[0]!, 200)}${others > 0 ? ` (and ${others === 1 ? '1 other cause' : `${others} other causes`} in the thread)` : ''}`;
}

export function parentMessage(b: GroupBatch, counts: GroupCounts, now: Date, found: ParentFindings = {}): { text: string; blocks: Record<string, unknown>[]; attachments: Record<string, unknown>[] } {
  const firing = counts.firing > 0;
  const state = firing ? ':red_circle: FIRING' : ':large_green_circle: RESOLVED';
  const title = groupTitle(b);
  const countText = `${counts.firing} firing · ${counts.resolved} resolved`;
  const blocks: Block[] = [{ type: 'section', text: `${state} *${title}*` }];
  // What and where first, on a phone: the cause once known, then the pods.
  const headline = headlineText(found.headlines);
  if (headline) blocks.push({ type: 'section', text: `:mag: ${headline}` });
  const pods = affectedPods(b);
  if (pods.length) blocks.push({ type: 'section', text: `${pods.length === 1 ? 'Pod' : 'Pods'}: ${podList(pods)}` });
  const summary = b.commonAnnotations['summary'] ?? (Object.keys(b.commonAnnotations).length ? summaryOf({ annotations: b.commonAnnotations }) : undefined);
  if (summary) blocks.push({ type: 'section', text: oneLine(summary, 300) });
  const am = safeLink(b.externalURL, 'Alertmanager') ?? 'Alertmanager';
  blocks.push({ type: 'context', elements: [`${am} · receiver ${oneLine(b.receiver, 100)} · updated ${timeIn(now, 'UTC', now)} · details in the thread`] });
  // The notification text is read on a lock screen: the first pods and the cause, plain.
  const about = [pods.length ? `${pods.slice(0, 2).join(', ')}${pods.length > 2 ? ` and ${pods.length - 2} more` : ''}` : '', found.headlines?.[0] ?? ''].filter(Boolean).join(': ');
  const reply: Reply = { text: `${firing ? 'FIRING' : 'RESOLVED'}: ${title}${about ? ` — ${oneLine(about, 200)}` : ''} (${countText})`, blocks, visibility: 'channel' };
  const rendered = renderBlocks(reply);
  return {
    ...rendered,
    // The colour bar carries the state; its text the counts, so both change together on update.
    attachments: [{ color: firing ? COLOURS.firing : COLOURS.resolved, fallback: countText, text: `*${counts.firing} firing* · ${counts.resolved} resolved`, mrkdwn_in: ['text'] }],
  };
}

export interface ListedChange {
  alert: WebhookAlert;
  kind: 'firing' | 'resolved';
}

/** One reply listing changed alerts: newly firing first, then resolved. */
export function listReply(changes: ListedChange[], common: Record<string, string>, now: Date, part?: { index: number; of: number }, note?: string): Reply {
  const firing = changes.filter((c) => c.kind === 'firing');
  const resolved = changes.filter((c) => c.kind === 'resolved');
  const line = (c: ListedChange) => {
    const s = summaryOf(c.alert);
    const started = Date.parse(c.alert.startsAt);
    const ended = Date.parse(c.alert.endsAt);
    const took = c.kind === 'resolved' && Number.isFinite(started) && Number.isFinite(ended) && ended > started ? ` after ${age(ended - started)}` : '';
    return `• ${alertName(c.alert, common)}${took}${s ? ` — ${oneLine(s, 110)}` : ''}`;
  };
  const head: string[] = [];
  if (firing.length) head.push(`:fire: *${firing.length} firing*`);
  if (resolved.length) head.push(`:white_check_mark: *${resolved.length} resolved*`);
  const blocks: Block[] = [{ type: 'section', text: `${head.join(' · ')}${part && part.of > 1 ? ` (part ${part.index} of ${part.of})` : ''}` }];
  // Sections of about 2,800 characters: Block Kit's limit is 3,000.
  for (const group of [firing, resolved]) {
    let chunk: string[] = [];
    let size = 0;
    for (const c of group) {
      const l = line(c);
      if (size + l.length + 1 > 2800 && chunk.length) {
        blocks.push({ type: 'section', text: chunk.join('\n') });
        chunk = [];
        size = 0;
      }
      chunk.push(l);
      size += l.length + 1;
    }
    if (chunk.length) blocks.push({ type: 'section', text: chunk.join('\n') });
  }
  blocks.push({ type: 'context', elements: [`Alertmanager notification received ${timeIn(now, 'UTC', now)}`, ...(note ? [note] : [])] });
  const text = `${firing.length} firing, ${resolved.length} resolved: ${changes.slice(0, 5).map((c) => oneLine(c.alert.labels['pod'] ?? c.alert.labels['alertname'] ?? c.alert.fingerprint, 80)).join(', ')}${changes.length > 5 ? ', …' : ''}`;
  return { text, blocks, visibility: 'channel', tone: firing.length ? 'warn' : 'ok' };
}
