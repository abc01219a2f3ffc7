/**
 * The messages of a backup incident: the parent (one line an operator reads on a phone: icon,
 * source, problem, since when, cause; its colour bar the state) and the thread's replies
 * (diagnosis, changes, recovery). Transport-neutral Replies, drawn for Slack by render-blocks.
 */
import type { Block, Reply } from '../reply.ts';
import { codeBlockText } from '../reply.ts';
import { renderBlocks } from '../slack/render-blocks.ts';
import { duration, whenIn } from '../text.ts';
import type { Problem } from './incidents.ts';
import type { SourceDiagnosis } from './source-diagnosis.ts';

const COLOURS = { open: '#E01E5A', resolved: '#2EB67D', paused: '#9E9EA6' };

export type ParentState = 'open' | 'resolved' | 'paused';

export interface ParentFacts {
  namespace: string;
  name: string;
  /** "backups failing" (mrkdwn, escaped). */
  what: string;
  since: number;
  headline?: string;
  state: ParentState;
  /** For resolved: how long it was broken. */
  brokenMs?: number;
  /** For paused: who paused it and since when (src/volsync/pause.ts pausedLine, mrkdwn). */
  paused?: string;
}

/** The parent's words without the clock-dependent parts, to tell whether it needs an update. */
export function parentKey(f: ParentFacts): string {
  return `${f.state}|${f.what}|${f.headline ?? ''}|${f.since}${f.paused ? `|${f.paused}` : ''}`;
}

export function parentLine(f: ParentFacts, now: number): string {
  const where = `*${f.namespace}/${f.name}*`;
  const since = whenIn(new Date(f.since), 'UTC', new Date(now));
  if (f.state === 'resolved') return `:large_green_circle: ${where}: healthy again after ${duration(f.brokenMs ?? now - f.since)} (was: ${f.what}${f.headline ? ` — ${f.headline}` : ''})`;
  if (f.state === 'paused') return `:double_vertical_bar: ${where}: ${f.paused ?? 'paused'} (was: ${f.what}${f.headline ? ` — ${f.headline}` : ''})`;
  return `:red_circle: ${where}: ${f.what} for ${duration(now - f.since)} (since ${since})${f.headline ? ` — ${f.headline}` : ''}`;
}

/** chat.postMessage / chat.update arguments of the parent. */
export function parentMessage(f: ParentFacts, now: number): { text: string; blocks: Record<string, unknown>[]; attachments: Record<string, unknown>[] } {
  const line = parentLine(f, now);
  const reply: Reply = { text: line.replace(/^:[a-z_]+: /, '').replace(/\*/g, ''), blocks: [{ type: 'section', text: line }], visibility: 'channel' };
  const state = f.state === 'open' ? 'open' : f.state === 'paused' ? 'paused' : 'resolved';
  return {
    ...renderBlocks(reply),
    attachments: [{ color: COLOURS[state], fallback: state, text: f.state === 'open' ? 'Backup incident · diagnosis in the thread' : 'Backup incident closed', mrkdwn_in: ['text'] }],
  };
}

/** The first reply: what the bot knows about the problem, then what to do. */
export function diagnosisReply(p: Problem, d: SourceDiagnosis): Reply {
  const blocks: Block[] = [];
  if (p.facts.length) blocks.push({ type: 'section', text: p.facts.join('\n') });
  if (d.lines.length) blocks.push({ type: 'section', text: d.lines.join('\n') });
  if (d.locks?.length) blocks.push({ type: 'section', text: '*Locks in the repository now:*' }, ...d.locks);
  if (d.logTail) blocks.push({ type: 'section', text: '*Mover log (last lines):*' }, { type: 'code', text: codeBlockText(d.logTail, 2500) });
  if (d.fix.length) blocks.push({ type: 'section', text: '*Fix:*' }, { type: 'code', text: d.fix.join('\n') });
  if (!blocks.length) blocks.push({ type: 'section', text: 'No more is known about it yet.' });
  blocks.push({ type: 'context', elements: [`\`/backup status ${p.namespace}\` shows every source of the namespace.`] });
  return { text: `Diagnosis of ${p.namespace}/${p.name}`, blocks, visibility: 'channel' };
}

export function changesReply(facts: readonly string[]): Reply {
  return { text: 'What changed', blocks: [{ type: 'section', text: `*Changed:*\n${facts.join('\n')}` }], visibility: 'channel' };
}

export function recoveryReply(o: { brokenMs: number; how: 'healthy' | 'paused' | 'gone'; detail?: string; paused?: string }): Reply {
  const text = o.how === 'healthy'
    ? `:large_green_circle: Healthy again after ${duration(o.brokenMs)}${o.detail ? `: ${o.detail}` : '.'}`
    : o.how === 'paused'
      ? `:double_vertical_bar: The source was paused after ${duration(o.brokenMs)}${o.paused ? ` (${o.paused})` : ''}; a paused source is not watched. This incident is closed.`
      : `:white_circle: The problem is no longer seen after ${duration(o.brokenMs)}${o.detail ? `: ${o.detail}` : '.'} This incident is closed.`;
  return { text: text.replace(/^:[a-z_]+: /, ''), blocks: [{ type: 'section', text }], visibility: 'channel' };
}

export function backAgainReply(p: Problem): Reply {
  const text = `:red_circle: Back again: ${p.what}. Continuing in this thread.`;
  return { text: text.replace(/^:[a-z_]+: /, ''), blocks: [{ type: 'section', text }], visibility: 'channel' };
}

export interface StormFacts {
  /** Sources still broken, of `total` in the storm. */
  count: number;
  total: number;
  kind: Problem['kind'];
  /** The shared cause (mrkdwn, escaped). */
  cause: string;
  since: number;
  state: 'open' | 'resolved';
}

const STORM_WORDS: Record<Problem['kind'], [string, string]> = {
  failing: ['source', 'failing'],
  stuck: ['source', 'stuck'],
  overdue: ['source', 'overdue'],
  unprotected: ['PVC', 'not backed up'],
};

/** ":red_circle: 500 sources failing: storage endpoint unreachable", then its count as they recover. */
export function stormParentMessage(f: StormFacts, now: number): { text: string; blocks: Record<string, unknown>[]; attachments: Record<string, unknown>[] } {
  const [noun, state] = STORM_WORDS[f.kind];
  const nouns = (n: number) => `${n} ${noun}${n === 1 ? '' : 's'}`;
  const line = f.state === 'resolved'
    ? `:large_green_circle: All ${nouns(f.total)} healthy again (were ${state}: ${f.cause})`
    : `:red_circle: *${f.count === f.total ? nouns(f.total) : `${f.count} of ${nouns(f.total)}`} ${state}*: ${f.cause} — for ${duration(now - f.since)} (since ${whenIn(new Date(f.since), 'UTC', new Date(now))}); the list is in the thread`;
  const reply: Reply = { text: line.replace(/^:[a-z_]+: /, '').replace(/\*/g, ''), blocks: [{ type: 'section', text: line }], visibility: 'channel' };
  return {
    ...renderBlocks(reply),
    attachments: [{ color: f.state === 'open' ? COLOURS.open : COLOURS.resolved, fallback: f.state, text: f.state === 'open' ? 'Backup incidents with one cause · the list in the thread' : 'Backup incidents closed', mrkdwn_in: ['text'] }],
  };
}

/** Lines into chunks that each fit one section (3,000 characters), so a long list is split, never cut. */
export function chunkLines(lines: readonly string[], budget = 2800): string[][] {
  const out: string[][] = [];
  let cur: string[] = [];
  let size = 0;
  for (const l of lines) {
    if (cur.length && size + l.length + 1 > budget) {
      out.push(cur);
      cur = [];
      size = 0;
    }
    cur.push(l);
    size += l.length + 1;
  }
  if (cur.length) out.push(cur);
  return out;
}

/** The storm's members, as many replies as they need: every one listed. */
export function stormListReplies(members: readonly Problem[], now: number): Reply[] {
  const lines = members.map((p) => `• *${p.namespace}/${p.name}* since ${whenIn(new Date(p.since), 'UTC', new Date(now))}`);
  return chunkLines(lines, 2700).map((chunk, i) => ({
    text: `${members.length} affected (part ${i + 1})`,
    blocks: [{ type: 'section', text: `${i === 0 ? `*${members.length} affected:*\n` : ''}${chunk.join('\n')}` }],
    visibility: 'channel',
  }));
}
