/**
 * The message posted when a window instance closes (at the end of its grace period): what crash
 * looped during it, what recovered, and what is still crash-looping, which is no longer "transient"
 * and is escalated to the configured user group.
 */
import type { Block, Reply } from '../reply.ts';
import { escapeMrkdwn, inlineCode, untrustedLine } from '../reply.ts';
import type { InstanceState, ObservedAlert } from './state.ts';
import { formatInZone as clockIn, plural, timeRange as windowRange } from '../text.ts';

const MAX_LINES = 15;

export interface SummaryInput {
  instance: InstanceState;
  zone: string;
  /** User group id (S…) from alerts.escalate. */
  escalate?: string;
  /** Put the mention here (false when the threads carry it because no summary can be posted). */
  mention: boolean;
  /** Why the final state could not be checked against Alertmanager, if it could not. */
  alertmanagerNote?: string;
}

export function alertName(a: ObservedAlert): string {
  const pod = a.pod ? (a.namespace ? `${a.namespace}/${a.pod}` : a.pod) : a.fingerprint;
  return inlineCode(pod, 120);
}

function lines(list: ObservedAlert[], line: (a: ObservedAlert) => string): string {
  const shown = list.slice(0, MAX_LINES).map((a) => `• ${line(a)}`);
  if (list.length > MAX_LINES) shown.push(`…and ${list.length - MAX_LINES} more`);
  return shown.join('\n');
}

function sorted(alerts: Record<string, ObservedAlert>): ObservedAlert[] {
  return Object.values(alerts).sort((a, b) => a.firstSeenAt.localeCompare(b.firstSeenAt) || (a.pod ?? '').localeCompare(b.pod ?? ''));
}

export function stillFiring(inst: InstanceState): ObservedAlert[] {
  return sorted(inst.alerts).filter((a) => a.status === 'firing');
}

export function summaryReply(s: SummaryInput): Reply {
  const inst = s.instance;
  const zone = s.zone;
  const range = windowRange({ start: new Date(inst.start), end: new Date(inst.end) }, zone);
  const all = sorted(inst.alerts);
  const firing = all.filter((a) => a.status === 'firing');
  const recovered = all.filter((a) => a.status === 'resolved');
  const grace = inst.graceEnd !== inst.end ? ` (grace until ${clockIn(new Date(inst.graceEnd), zone)})` : '';
  const counts = `*${all.length}* crash-looped · *${recovered.length}* recovered · *${firing.length}* still crash-looping`;
  const blocks: Block[] = [
    { type: 'header', text: `Backup window ${inst.window} closed` },
    { type: 'section', text: `${range}${grace} · mode \`${inst.mode}\`\n${all.length === 0 ? 'No crash-loop alerts during the window.' : counts}` },
  ];
  if (firing.length > 0) {
    const who = s.escalate ? (s.mention ? `<!subteam^${s.escalate}> ` : '') : '';
    const hint = s.escalate ? '' : '\n_Set `alerts.escalate` to a user group to have it mentioned here._';
    blocks.push({
      type: 'section',
      text: `:rotating_light: *Still crash-looping after the window: no longer transient.* ${who}please investigate:\n${lines(firing, (a) =>
        `${alertName(a)}${a.alertname ? ` (${untrustedLine(a.alertname, 100)})` : ''} since ${clockIn(new Date(a.firstSeenAt), zone)}${a.transient ? '' : ', not a known-transient pod'}${a.channel && a.threadTs ? `, see its thread in <#${a.channel}>` : a.source === 'silenced' ? ', was muted by the window (Alertmanager notifies it now the silence is gone)' : ''}`)}${hint}`,
    });
  }
  if (recovered.length > 0) {
    blocks.push({
      type: 'section',
      text: `:white_check_mark: *Recovered:*\n${lines(recovered, (a) => `${alertName(a)} recovered${a.resolvedAt ? ` at ${clockIn(new Date(a.resolvedAt), zone)}` : ''}${a.transient ? '' : ' (not a known-transient pod)'}`)}`,
    });
  }
  const notes: string[] = [];
  if (new Date(inst.openedAt).getTime() - new Date(inst.start).getTime() > 60_000) {
    notes.push(`backup-bot watched this window from ${clockIn(new Date(inst.openedAt), zone)} (it was restarted during it)`);
  }
  if (inst.dropped) notes.push(`${plural(inst.dropped, 'more alert')} were not recorded (too many)`);
  if (s.alertmanagerNote) notes.push(s.alertmanagerNote);
  if (notes.length > 0) blocks.push({ type: 'context', elements: notes.map(escapeMrkdwn) });
  const text = all.length === 0
    ? `Backup window ${inst.window} closed (${range}): no crash loops.`
    : `Backup window ${inst.window} closed (${range}): ${all.length} crash-looped, ${recovered.length} recovered, ${firing.length} still crash-looping${firing.length > 0 && s.escalate ? ' (escalated)' : ''}.`;
  return { text, blocks, visibility: 'channel', tone: firing.length > 0 ? 'error' : 'ok' };
}

/** Posted in a still-firing alert's own thread. */
export function escalationReply(inst: InstanceState, alert: ObservedAlert, opts: { zone: string; escalate?: string; mention: boolean; summaryChannel?: string }): Reply {
  const name = escapeMrkdwn(inst.window);
  const closed = `the ${name} backup window closed (${windowRange({ start: new Date(inst.start), end: new Date(inst.end) }, opts.zone)}${inst.graceEnd !== inst.end ? `, grace until ${clockIn(new Date(inst.graceEnd), opts.zone)}` : ''})`;
  const where = opts.escalate
    ? opts.mention
      ? `Escalated: <!subteam^${opts.escalate}> please investigate.`
      : `Escalated to the on-call group in the window summary${opts.summaryChannel ? ` in <#${opts.summaryChannel}>` : ''}.`
    : 'Escalated: investigate (no `alerts.escalate` user group is configured).';
  const why = alert.transient ? 'no longer a known transient' : 'and it is not one of the window\'s known-transient pods';
  const text = `${alertName(alert)} is still crash-looping after ${closed}: ${why}. ${where}`;
  return {
    text: text.replace(/[`*]/g, ''),
    blocks: [{ type: 'section', text: `:rotating_light: *Still crash-looping after the window.* ${text}` }],
    visibility: 'channel',
    tone: 'error',
  };
}
