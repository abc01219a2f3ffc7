/**
 * StatusData → one Reply: counts, then problems with their causes (first ones in detail, the rest
 * one line each), then running, paused and healthy sources compactly, then Percona. Sized for
 * Block Kit at any scale: a fixed number of blocks, each text bounded, and with thousands of
 * sources a summary that says how to narrow down.
 */
import type { Block, Reply, Tone } from '../reply.ts';
import { codeBlockText, inlineCode, untrustedLine } from '../reply.ts';
import { duration as humanDuration, relative } from '../text.ts';
import { key, ms, nameOf, rfc3339 } from './objects.ts';
import type { Pod } from './objects.ts';
import type { PerconaReport } from './percona.ts';
import { describeLock } from './percona.ts';
import type { SourceHealth, SourceState } from './source-health.ts';
import { STATE_ORDER, podPhase, podSince } from './source-health.ts';
import { moverStateLine } from '../volsync/mover-state.ts';
import type { StatusData } from './status.ts';

export const ICON: Record<SourceState, string> = {
  failing: ':red_circle:',
  overdue: ':large_yellow_circle:',
  running: ':arrows_counterclockwise:',
  paused: ':zzz:',
  healthy: ':white_check_mark:',
};

/** Problems shown with fields and log tail; the rest get one line each. */
export const DETAILED_PROBLEMS = 8;
const TEXT_BUDGET = 2800;
const CAUSE_MAX = 500;
const LOG_MAX = 1200;

const clip = (s: string, max: number) => (s.length <= max ? s : `${s.slice(0, max - 1)}…`);
const id = (h: SourceHealth) => `${h.namespace}/${h.name}`;

/** Joins items into one text of at most `budget` characters, ending with "…and N more". */
export function joinWithin(items: string[], sep: string, budget: number, more: (n: number) => string): string {
  let out = '';
  for (let i = 0; i < items.length; i++) {
    const next = (out ? sep : '') + items[i];
    const rest = items.length - i - 1;
    const tailRoom = rest > 0 ? more(rest).length + sep.length : 0;
    if (out.length + next.length + tailRoom > budget) return `${out}${out ? sep : ''}${more(items.length - i)}`;
    out += next;
  }
  return out;
}

export function counts(health: SourceHealth[]): Record<SourceState, number> {
  const c: Record<SourceState, number> = { failing: 0, overdue: 0, running: 0, paused: 0, healthy: 0 };
  for (const h of health) c[h.state]++;
  return c;
}

function countsLine(c: Record<SourceState, number>): string {
  return STATE_ORDER.map((s) => `${ICON[s]} ${c[s]} ${s}`).join(' · ');
}

function lastSyncText(h: SourceHealth, now: number): string {
  return h.lastSync !== undefined ? `${rfc3339(h.lastSync)} (${humanDuration(now - h.lastSync)} ago)` : 'never';
}

function nextSyncText(h: SourceHealth, now: number): string {
  if (h.paused) return 'paused';
  if (h.nextSync === undefined) return h.schedule ? '—' : 'manual trigger only';
  return h.nextSync >= now ? `in ${humanDuration(h.nextSync - now)}` : `due ${humanDuration(now - h.nextSync)} ago`;
}

export function sourceFields(h: SourceHealth, now: number): string[] {
  return [
    `*Schedule*\n${h.schedule ? `${inlineCode(h.schedule, 100)}${h.scheduleInvalid ? ' (not understood)' : ''}` : 'manual trigger only'}`,
    `*Last sync*\n${lastSyncText(h, now)}`,
    `*Duration*\n${h.duration ? untrustedLine(h.duration, 60) : '—'}`,
    `*Next sync*\n${nextSyncText(h, now)}`,
    `*Last result*\n${h.result ? untrustedLine(h.result, 60) : '—'}`,
  ];
}

/** A cause as mrkdwn: VolSync's own error message is outside text; the other causes are escaped where they are built. */
function causeText(c: SourceHealth['causes'][number]): string {
  return c.kind === 'sync-error' ? untrustedLine(c.text, CAUSE_MAX) : c.text;
}

function causeLines(h: SourceHealth, stuck: Map<string, string>, now: number, always = false): string[] {
  const lines: string[] = [];
  for (const c of h.causes) {
    let text = causeText(c);
    if (c.kind === 'mover-stuck') {
      const pod = h.stuckPods.find((p) => text.includes(`\`${nameOf(p)}\``));
      const why = pod && stuck.get(key(pod));
      if (why) text += ` ${untrustedLine(why, CAUSE_MAX)}`;
    }
    lines.push(`• ${clip(text, CAUSE_MAX + 200)}`);
    if (c.hint) lines.push(`   ${c.hint}`);
  }
  // Whether a mover runs, in the words every reply uses; a stuck pod's own cause already says it.
  const m = h.mover;
  const stuckMover = m.kind === 'mover' && h.stuckPods.some((p) => nameOf(p) === m.pod.name);
  if (m.kind !== 'idle' && (h.state !== 'running' || always) && !stuckMover) lines.push(`• ${moverStateLine(m, now)}`);
  if (h.manualPending) lines.push(`• Manual sync ${inlineCode(h.manualPending, 60)} requested, not finished yet.`);
  return lines;
}

function problemBlocks(h: SourceHealth, data: StatusData, now: number): Block[] {
  const title = `${ICON[h.state]} *${id(h)}* · ${h.state}`;
  const text = clip([title, ...causeLines(h, data.stuck, now)].join('\n'), TEXT_BUDGET);
  const blocks: Block[] = [{ type: 'section', text, fields: sourceFields(h, now) }];
  if (h.logTail) blocks.push({ type: 'code', text: codeBlockText(h.logTail, LOG_MAX + 1) });
  return blocks;
}

function shortCause(h: SourceHealth): string {
  const c = h.causes[0];
  if (!c) return h.state;
  return clip(causeText(c).replace(/\s+/g, ' '), 140);
}

function perconaBlocks(p: PerconaReport, now: number): { blocks: Block[]; problem: boolean } {
  if (p.backups.total === 0 && p.restores.total === 0) return { blocks: [], problem: false };
  const lines = [
    `*Percona MySQL:* backups ${p.backups.total} (${p.backups.running.length} running, ${p.backups.failed.length} failed, ${p.backups.succeeded} succeeded) · restores ${p.restores.total} (${p.restores.running.length} running, ${p.restores.failed.length} failed)`,
  ];
  for (const l of p.locks) lines.push(describeLock(l, now));
  const objLine = (kind: string, o: { metadata?: { namespace?: string; name?: string }; status?: { state?: string; stateDescription?: string } }) =>
    `• ${kind} \`${o.metadata?.namespace}/${o.metadata?.name}\`: ${untrustedLine(o.status?.state ?? 'New', 60)}${o.status?.stateDescription ? `: ${untrustedLine(o.status.stateDescription, 200)}` : ''}`;
  const details = [
    ...p.restores.running.map((r) => objLine('restore', r)),
    ...p.restores.failed.map((r) => objLine('restore', r)),
    ...p.backups.running.map((b) => objLine('backup', b)),
    ...p.backups.failed.map((b) => objLine('backup', b)),
  ];
  const text = joinWithin([...lines, ...details], '\n', TEXT_BUDGET, (n) => `…and ${n} more`);
  const problem = p.locks.some((l) => l.blocking || l.stale || l.expiredWhileRunning) || p.backups.failed.length > 0 || p.restores.failed.length > 0;
  return { blocks: [{ type: 'section', text }], problem };
}

function footer(data: StatusData, server: string | undefined, now: number): Block {
  const inv = data.inventory;
  const from = inv.from === 'cache' ? 'From the watch cache (kept current by watches)' : `Live from the API server${server ? ` at ${server}` : ''}`;
  const notes = [...data.notes];
  if (!inv.volumes && !data.notes.some((n) => /Longhorn/.test(n))) notes.push('Longhorn is not installed (volume health not checked)');
  return { type: 'context', elements: [`${from} · ${rfc3339(now)}`, ...notes.map((n) => `:warning: ${untrustedLine(n, 400)}`)] };
}

function toneOf(c: Record<SourceState, number>, perconaProblem: boolean): Tone {
  if (c.failing > 0) return 'error';
  if (c.overdue > 0 || perconaProblem) return 'warn';
  return 'ok';
}

export function renderStatus(data: StatusData, opts: { namespace?: string; now: number; server?: string }): Reply {
  const { now } = opts;
  const health = data.health;
  const c = counts(health);
  const scope = opts.namespace ? `in ${opts.namespace}` : 'in all namespaces';
  const blocks: Block[] = [
    { type: 'header', text: `Backups ${scope}` },
    { type: 'section', text: `*${health.length} source${health.length === 1 ? '' : 's'}:* ${countsLine(c)}` },
  ];
  const rank: Record<SourceState, number> = { failing: 0, overdue: 1, running: 2, paused: 3, healthy: 4 };
  const problems = health.filter((h) => h.state === 'failing' || h.state === 'overdue')
    .sort((a, b) => rank[a.state] - rank[b.state] || (a.lastSync ?? 0) - (b.lastSync ?? 0) || id(a).localeCompare(id(b)));
  const percona = data.percona ? perconaBlocks(data.percona, now) : { blocks: [], problem: false };

  if (problems.length) {
    blocks.push({ type: 'divider' });
    for (const h of problems.slice(0, DETAILED_PROBLEMS)) blocks.push(...problemBlocks(h, data, now));
    const rest = problems.slice(DETAILED_PROBLEMS);
    if (rest.length) {
      const lines = rest.map((h) => `${ICON[h.state]} \`${id(h)}\` ${shortCause(h)}`);
      blocks.push({ type: 'section', text: joinWithin(lines, '\n', TEXT_BUDGET, (n) => `…and ${n} more problems.`) });
      const byNs = new Map<string, number>();
      for (const h of problems) byNs.set(h.namespace, (byNs.get(h.namespace) ?? 0) + 1);
      const top = [...byNs.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, 5);
      blocks.push({ type: 'context', elements: [`Narrow down with \`/backup status <namespace>\`${opts.namespace ? ' `<name>`' : ''}. Most problems in: ${top.map(([n, k]) => `\`${n}\` (${k})`).join(', ')}.`] });
    }
  }
  if (percona.problem) blocks.push({ type: 'divider' }, ...percona.blocks);

  const compact = (state: SourceState, title: string, describe: (h: SourceHealth) => string) => {
    const list = health.filter((h) => h.state === state).sort((a, b) => id(a).localeCompare(id(b)));
    if (!list.length) return;
    const namespaces = new Set(list.map((h) => h.namespace)).size;
    const head = `${ICON[state]} *${title} (${list.length}${namespaces > 1 ? ` in ${namespaces} namespaces` : ''}):* `;
    if (list.length > 150) {
      blocks.push({ type: 'section', text: `${head}not listed one by one; \`/backup status <namespace>\` lists a namespace's sources.` });
      return;
    }
    blocks.push({ type: 'section', text: head + joinWithin(list.map(describe), ' · ', TEXT_BUDGET - head.length, (n) => `…and ${n} more (\`/backup status <namespace>\`)`) });
  };
  if (problems.length || percona.problem) blocks.push({ type: 'divider' });
  compact('running', 'Running', (h) => `\`${id(h)}\`${h.runningSince ? ` since ${humanDuration(now - h.runningSince)}` : ''}${h.mover.kind === 'no-pod' ? ' (no mover pod yet)' : ''}`);
  compact('paused', 'Paused', (h) => `\`${id(h)}\` (last sync ${h.lastSync !== undefined ? `${humanDuration(now - h.lastSync)} ago` : 'never'})${h.causes.length ? `: ${shortCause(h)}` : ''}`);
  compact('healthy', 'Healthy', (h) => `\`${id(h)}\` ${h.lastSync !== undefined ? humanDuration(now - h.lastSync) : 'never'}`);
  if (!percona.problem && percona.blocks.length) blocks.push(...percona.blocks);
  if (health.length === 0) blocks.push({ type: 'section', text: 'No ReplicationSources found.' });
  blocks.push(footer(data, opts.server, now));

  const summary = `Backups ${scope}: ${health.length} sources: ${STATE_ORDER.map((s) => `${c[s]} ${s}`).join(', ')}.`;
  const firstProblems = problems.slice(0, 5).map((h) => `${id(h)} (${h.state})`).join(', ');
  return {
    text: firstProblems ? `${summary} Problems: ${firstProblems}${problems.length > 5 ? ', …' : ''}.` : summary,
    blocks,
    visibility: 'ephemeral',
    tone: toneOf(c, percona.problem),
  };
}

function podLine(p: Pod, now: number, stuck: Map<string, string>): string {
  const since = podSince(p);
  const why = stuck.get(key(p));
  return `\`${nameOf(p)}\` ${untrustedLine(podPhase(p), 120)}${since ? `, ${humanDuration(now - since)}` : ''}${why ? `: ${untrustedLine(why, 300)}` : ''}`;
}

export function renderSourceDetail(data: StatusData, now: number): Reply {
  const h = data.health[0]!;
  const status = h.source.status ?? {};
  const sync = status.conditions?.find((x) => x.type === 'Synchronizing');
  const fields = sourceFields(h, now);
  fields.push(`*Paused*\n${h.paused ? 'yes' : 'no'}`);
  fields.push(`*Source PVC*\n${h.pvcName ? `${inlineCode(h.pvcName, 120)}${h.pvc ? ` (${untrustedLine(h.pvc.status?.phase ?? 'unknown', 40)})` : ' (not found)'}` : '—'}`);
  if (h.volumeName) {
    const v = h.volume?.status;
    fields.push(`*Longhorn volume*\n${inlineCode(h.volumeName, 120)}${h.volume ? `: ${untrustedLine(v?.state ?? 'unknown', 40)}, ${untrustedLine(v?.robustness ?? 'unknown', 40)}` : data.inventory.volumes ? ' (not a Longhorn volume)' : ''}`);
  }
  const job = h.job;
  fields.push(`*Mover Job*\n${job ? `\`${nameOf(job)}\`: ${job.status?.active ?? 0} active, ${job.status?.failed ?? 0} failed, ${job.status?.succeeded ?? 0} succeeded` : 'none'}`);
  const lines = [`${ICON[h.state]} *${id(h)}* · ${h.state}`, ...causeLines(h, data.stuck, now, true)];
  if (sync) {
    const at = ms(sync.lastTransitionTime);
    const since = at !== undefined ? ` since ${relative(at, now)}` : '';
    lines.push(`Synchronizing: *${untrustedLine(sync.status ?? '', 20)}* (${untrustedLine(sync.reason ?? '', 60)})${since}${sync.message ? `: ${untrustedLine(sync.message, 300)}` : ''}`);
  }
  if (h.pods.length) lines.push(`Mover pods: ${h.pods.slice(0, 5).map((p) => podLine(p, now, data.stuck)).join('; ')}`);
  const blocks: Block[] = [
    { type: 'header', text: `Backup ${id(h)}` },
    { type: 'section', text: clip(lines.join('\n'), TEXT_BUDGET) },
    { type: 'fields', fields },
  ];
  if (h.logTail) blocks.push({ type: 'code', text: codeBlockText(h.logTail, LOG_MAX + 1) });
  blocks.push(footer(data, undefined, now));
  const c = counts([h]);
  return {
    text: `${id(h)}: ${h.state}${h.causes[0] ? `: ${clip(causeText(h.causes[0]).replace(/[*`]/g, ''), 300)}` : ''}`,
    blocks,
    visibility: 'ephemeral',
    tone: toneOf(c, false),
  };
}
