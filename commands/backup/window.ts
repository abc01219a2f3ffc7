/**
 * `/backup window`: for each configured window, whether it is open now, the current or next
 * instance in UTC, in the window's own zone and in the caller's, the silences the bot owns (read
 * from Alertmanager, linked), and the alerts it annotated or muted in the current or last instance.
 */
import type { CommandContext } from '../../src/command/context.ts';
import type { ParsedCommand } from '../../src/command/registry.ts';
import type { Silence } from '../../src/alerts/alertmanager-types.ts';
import type { Block, Reply } from '../../src/reply.ts';
import { escapeMrkdwn, infoReply } from '../../src/reply.ts';
import { currentOrNext, lastClosed } from '../../src/window/index.ts';
import type { WindowInstance } from '../../src/window/index.ts';
import { defaultWindowSilences, defaultWindowStore } from '../../src/backup-window/service.ts';
import type { BackupWindowService, WindowSilences } from '../../src/backup-window/service.ts';
import type { InstanceState, ObservedAlert, WindowsState } from '../../src/backup-window/state.ts';
import { alertName } from '../../src/backup-window/summary.ts';
import { formatInZone as clockIn, datedRange, whenIn } from '../../src/text.ts';
import { userZone } from './user-zone.ts';
import type { UserZone } from './user-zone.ts';
import { parseWindowMarker, WINDOW_MARKER_PREFIX } from '../../src/backup-window/window-silence.ts';
import type { WindowSettings } from '../../src/backup-window/window-settings.ts';
import { windowSettings } from '../../src/backup-window/window-settings.ts';

const MAX_ALERT_LINES = 10;
const ALL_DAYS = 7;

type Loaded<T> = { ok: true; value: T } | { ok: false; error: string };

async function load<T>(fn: () => Promise<T>): Promise<Loaded<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (err) {
    return { ok: false, error: (err as Error).message.split('\n')[0]!.slice(0, 300) };
  }
}

export interface WindowCommandDeps {
  /** The bot's running window service (it reads the same state and silences the schedule uses). */
  windows?: (() => BackupWindowService | undefined) | undefined;
}

export const windowCommand = (deps: WindowCommandDeps = {}) => async (_cmd: ParsedCommand, ctx: CommandContext): Promise<Reply> => {
  const svc = deps.windows?.();
  const windows = svc?.windows ?? windowSettings(ctx.services.config.windows);
  if (windows.length === 0) {
    return infoReply('No backup windows are configured. Add one under `windows:` in the configuration file (see the README, "The backup window").');
  }
  const store = svc?.store ?? defaultWindowStore(ctx.services);
  const silences = svc ? svc.silences : defaultWindowSilences(ctx.services);
  const now = ctx.now();
  const [zone, state, owned] = await Promise.all([
    userZone(ctx.actor),
    load(() => store.read()),
    silences ? load(() => silences.findOwned(WINDOW_MARKER_PREFIX)) : Promise.resolve(undefined),
  ]);

  const blocks: Block[] = [{ type: 'header', text: windows.length === 1 ? 'Backup window' : 'Backup windows' }];
  const lines: string[] = [];
  windows.forEach((w, i) => {
    if (i > 0) blocks.push({ type: 'divider' });
    const { blocks: wb, line } = windowSection(w, { now, zone, state, owned, silences });
    blocks.push(...wb);
    lines.push(line);
  });
  const notes: string[] = [];
  if (zone.note) notes.push(`Times in UTC because ${zone.note}.`);
  if (!state.ok) notes.push(`Could not read what the bot recorded about the windows: ${state.error}`);
  if (notes.length > 0) blocks.push({ type: 'context', elements: notes.map(escapeMrkdwn) });
  return { text: lines.join('\n'), blocks, visibility: 'ephemeral', tone: 'info' };
};

interface SectionInput {
  now: Date;
  zone: UserZone;
  state: Loaded<WindowsState>;
  owned: Loaded<Silence[]> | undefined;
  silences: WindowSilences | undefined;
}

function dayList(w: WindowSettings): string {
  return w.days.length === ALL_DAYS ? 'every day' : w.days.join(', ');
}

function windowSection(w: WindowSettings, s: SectionInput): { blocks: Block[]; line: string } {
  const { now } = s;
  const name = escapeMrkdwn(w.name);
  let cur: { open: boolean; instance: WindowInstance };
  try {
    cur = currentOrNext(w, now);
  } catch (err) {
    return { blocks: [{ type: 'section', text: `:warning: *${name}*: ${escapeMrkdwn((err as Error).message)}` }], line: `${w.name}: misconfigured` };
  }
  const last = lastClosed(w, now);
  const inGrace = !cur.open && last !== undefined && now.getTime() < last.graceEnd.getTime();
  const shown = cur.instance;
  const grace = w.graceMinutes > 0;

  const out: string[] = [];
  let line: string;
  if (cur.open) {
    out.push(`*${name}* · \`${w.mode}\` · :large_green_circle: *open now*`);
    out.push(`Opened ${formatInZoneDate(shown.start)}, closes ${clockIn(shown.end, 'UTC')}${grace ? `; late crashes count until ${clockIn(shown.graceEnd, 'UTC')}, then the summary` : ', then the summary'}.`);
    line = `${w.name}: open now, closes ${clockIn(shown.end, 'UTC')}`;
  } else if (inGrace) {
    out.push(`*${name}* · \`${w.mode}\` · :large_yellow_circle: *closed at ${clockIn(last!.end, 'UTC')}, grace period until ${clockIn(last!.graceEnd, 'UTC')}*`);
    out.push(`Next: ${datedRange(shown.start, shown.end, 'UTC')}.`);
    line = `${w.name}: closed, in its grace period until ${clockIn(last!.graceEnd, 'UTC')}; next opens ${formatInZoneDate(shown.start)}`;
  } else {
    out.push(`*${name}* · \`${w.mode}\` · :white_circle: closed`);
    out.push(`Next: ${datedRange(shown.start, shown.end, 'UTC')}${grace ? ` (late crashes count until ${clockIn(shown.graceEnd, 'UTC')})` : ''}.`);
    line = `${w.name}: closed; next opens ${formatInZoneDate(shown.start)}, closes ${clockIn(shown.end, 'UTC')}`;
  }
  if (w.zone !== 'UTC' && w.zone !== 'Etc/UTC') out.push(`Window's zone (${escapeMrkdwn(w.zone)}): ${datedRange(shown.start, shown.end, w.zone)}`);
  if (s.zone.zone !== 'UTC' && s.zone.zone !== 'Etc/UTC') {
    out.push(`Your time (${escapeMrkdwn(s.zone.zone)}, from ${s.zone.source}): ${datedRange(shown.start, shown.end, s.zone.zone)}`);
    line += ` (${datedRange(shown.start, shown.end, s.zone.zone)} your time)`;
  }

  const blocks: Block[] = [{ type: 'section', text: out.join('\n') }];
  blocks.push({
    type: 'context',
    elements: [
      `${w.zone} ${w.start}–${w.end}, ${dayList(w)}${grace ? ` · grace ${w.graceMinutes} min` : ''}`,
      `Known-transient pods: ${w.transientPods.map((p) => `\`${escapeMrkdwn(p)}\``).join(', ')}${w.namespaces.length > 0 ? ` in ${w.namespaces.map(escapeMrkdwn).join(', ')}` : ''}`,
    ],
  });
  blocks.push({ type: 'section', text: silencesText(w, s) });
  blocks.push({ type: 'section', text: alertsText(w, s, cur.open || inGrace) });
  return { blocks, line };
}

function formatInZoneDate(d: Date): string {
  return datedRange(d, d, 'UTC').split(' – ')[0]!;
}

function silencesText(w: WindowSettings, s: SectionInput): string {
  if (!s.silences) {
    return w.mode === 'mute'
      ? '*Silences it owns:* none: `ALERTMANAGER_URL` is not set, so this mute window cannot mute anything. Set it to your Alertmanager.'
      : '*Silences it owns:* none (`annotate` mode; `ALERTMANAGER_URL` is not set).';
  }
  if (!s.owned || !s.owned.ok) return `*Silences it owns:* unknown: ${escapeMrkdwn(s.owned?.error ?? 'not read')}`;
  const mine = s.owned.value.filter((x) => parseWindowMarker(x.comment)?.window === w.name);
  if (mine.length === 0) return `*Silences it owns:* none${w.mode === 'mute' ? ' (it mutes only while the window is open)' : ''}.`;
  const items = mine.map((x) => {
    const ends = new Date(x.endsAt);
    const until = Number.isNaN(ends.getTime()) ? '' : ` until ${whenIn(ends, 'UTC', s.now)}`;
    const matchers = x.matchers.map((m) => `${m.name}${m.isEqual === false ? '!' : '='}${m.isRegex ? '~' : ''}"${m.value}"`).join(', ');
    return `• <${s.silences!.silenceUrl(x.id)}|${x.id.slice(0, 8)}>${until} (${x.status.state}): \`${escapeMrkdwn(matchers).slice(0, 400)}\``;
  });
  return `*Silences it owns:*\n${items.join('\n')}`;
}

function latestRecord(w: WindowSettings, state: WindowsState, now: Date): InstanceState | undefined {
  return Object.values(state)
    .filter((r) => r.window === w.name && new Date(r.start).getTime() <= now.getTime())
    .sort((a, b) => b.start.localeCompare(a.start))[0];
}

function alertLine(a: ObservedAlert, now: Date): string {
  const verdict = a.annotated
    ? a.annotated.verdict === 'transient' ? 'known transient' : 'not a known-transient pod: investigate'
    : a.source === 'silenced' ? 'muted by the window\'s silence' : 'seen';
  const status = a.status === 'resolved' ? `recovered${a.resolvedAt ? ` ${whenIn(new Date(a.resolvedAt), 'UTC', now)}` : ''}` : a.escalatedAt ? 'still firing, escalated' : 'firing';
  const at = a.annotated?.at ?? a.firstSeenAt;
  return `• ${alertName(a)}: ${verdict} · ${whenIn(new Date(at), 'UTC', now)} · ${status}`;
}

function alertsText(w: WindowSettings, s: SectionInput, live: boolean): string {
  if (!s.state.ok) return '*Alerts:* unknown (the window state could not be read).';
  const rec = latestRecord(w, s.state.value, s.now);
  const isCurrent = rec !== undefined && live && s.now.getTime() < new Date(rec.graceEnd).getTime();
  if (!rec) return `*Alerts annotated or muted:* none yet${live ? ' in this window' : ''}.`;
  const title = isCurrent
    ? '*Alerts annotated or muted in this window:*'
    : `*Alerts annotated or muted in the last window* (${datedRange(new Date(rec.start), new Date(rec.end), 'UTC')}):`;
  const list = Object.values(rec.alerts)
    .filter((a) => a.annotated || a.source === 'silenced')
    .sort((a, b) => (a.annotated?.at ?? a.firstSeenAt).localeCompare(b.annotated?.at ?? b.firstSeenAt));
  if (list.length === 0) return `${title} none.`;
  const shown = list.slice(0, MAX_ALERT_LINES).map((a) => alertLine(a, s.now));
  if (list.length > MAX_ALERT_LINES) shown.push(`…and ${list.length - MAX_ALERT_LINES} more`);
  const summary = !isCurrent && rec.summary?.state === 'posted' && rec.summary.channel ? `\nSummary posted in <#${rec.summary.channel}>.` : '';
  return `${title}\n${shown.join('\n')}${summary}`;
}
