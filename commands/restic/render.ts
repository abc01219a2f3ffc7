/**
 * How locks, movers and people are shown: short lines that read on a phone, problems first
 * (orphaned, then stale, then unknown, then live), one section per lock.
 */
import { plural } from '../../src/text.ts';
import type { Block } from '../../src/reply.ts';
import { clipText, escapeMrkdwn, inlineCode, untrustedLine } from '../../src/reply.ts';
import { formatAge, formatInstant, repositoryBlocks } from '../../src/restic/index.ts';
import type { Verdict } from '../../src/restic/index.ts';
import type { Evidence, LockEvidence, MoverPod } from './evidence.ts';
import type { MoverState } from '../../src/volsync/mover-state.ts';
import { moverStateLine } from '../../src/volsync/mover-state.ts';

const ORDER: Record<Verdict, number> = { orphaned: 0, stale: 1, unknown: 2, live: 3 };
const ICON: Record<Verdict, string> = { orphaned: ':red_circle:', stale: ':large_yellow_circle:', unknown: ':white_circle:', live: ':large_green_circle:' };
/** More than this many locks are counted, not listed one by one (Slack allows 50 blocks). */
export const MAX_LISTED_LOCKS = 20;

export function sortLocks(locks: readonly LockEvidence[]): LockEvidence[] {
  return [...locks].sort((a, b) => ORDER[a.verdict.verdict] - ORDER[b.verdict.verdict] || a.lock.time.getTime() - b.lock.time.getTime());
}


/** "1 orphaned, 1 stale, 1 unknown, 1 live" in problem order. */
export function verdictCounts(locks: readonly LockEvidence[]): string {
  const counts = new Map<Verdict, number>();
  for (const l of locks) counts.set(l.verdict.verdict, (counts.get(l.verdict.verdict) ?? 0) + 1);
  return (['orphaned', 'stale', 'unknown', 'live'] as const).filter((v) => counts.get(v)).map((v) => `${counts.get(v)} ${v}`).join(', ');
}

function reasonText(e: LockEvidence): string {
  // The verdict already heads the section; the reason's own "Stale:" prefix would repeat it.
  const r = e.verdict.reason.replace(/^(Stale|Orphaned|Unknown|Live):\s*/, '');
  return r.charAt(0).toUpperCase() + r.slice(1);
}

/**
 * A reason about a lock (its verdict, why unlock kept it) is the bot's mrkdwn (it quotes `restic
 * unlock`) with the lock's hostname in it, which is outside text: escaped, capped, and the
 * hostname's backticks made quotes so they cannot pair with the bot's.
 */
export function lockReasonText(reason: string, hostname: string): string {
  const safe = hostname.includes('`') ? reason.split(hostname).join(hostname.replace(/`/g, "'")) : reason;
  return escapeMrkdwn(clipText(safe, 600));
}

function reasonLine(e: LockEvidence): string {
  return lockReasonText(reasonText(e), e.lock.hostname);
}

export function lockSection(e: LockEvidence, now: Date): Block {
  const { lock, verdict } = e;
  const kind = lock.exclusive ? 'exclusive' : 'shared';
  const age = now.getTime() - lock.time.getTime();
  const lines = [
    `${ICON[verdict.verdict]} *${verdict.verdict}* · \`${lock.shortId}\` · ${kind}`,
    `Host ${inlineCode(lock.hostname, 100)} · PID ${lock.pid}${lock.username ? ` · ${untrustedLine(lock.username, 60)}` : ''}`,
    `Created ${formatInstant(lock.time)} · ${age >= 0 ? `${formatAge(age)} ago` : 'in the future (clock skew)'}`,
    reasonLine(e),
    `_Blocks ${verdict.blocks.operations.join(', ')}_`,
  ];
  return { type: 'section', text: lines.join('\n') };
}

export function lockBlocks(evidence: Pick<Evidence, 'locks' | 'at'>): Block[] {
  const sorted = sortLocks(evidence.locks);
  const blocks: Block[] = sorted.slice(0, MAX_LISTED_LOCKS).map((e) => lockSection(e, evidence.at));
  const rest = sorted.slice(MAX_LISTED_LOCKS);
  if (rest.length) {
    blocks.push({ type: 'context', elements: [`…and ${plural(rest.length, 'more lock')} (${verdictCounts(rest)}), not listed one by one.`] });
  }
  return blocks;
}

/**
 * The mover pods using the repository now; with the source's own mover state, also when VolSync
 * retries the source with no mover pod (the words /backup status uses too).
 */
export function moverLine(movers: readonly MoverPod[], now: Date, source?: MoverState): string {
  // A restore's mover may use the repository while the source itself waits for VolSync's retry: both are said.
  const retrying = source?.kind === 'no-pod' ? ` ${moverStateLine(source, now)}` : '';
  if (movers.length === 0) return `Mover pods using this repository now: none running.${retrying}`;
  const list = movers.map((m) => `\`${m.name}\` ${m.phase}${m.since ? ` for ${formatAge(now.getTime() - m.since.getTime())}` : ''}${m.kind === 'destination' ? ` (restore ${escapeMrkdwn(m.owner)})` : ''}`);
  return `:arrows_counterclockwise: Mover ${movers.length === 1 ? 'pod' : 'pods'} using this repository now: ${list.join(', ')}.${retrying}`;
}

/** The one-paragraph summary at the top: how many locks, what they block together. */
export function summaryLine(evidence: Pick<Evidence, 'locks'>, target: string): string {
  const n = evidence.locks.length;
  if (n === 0) return `:white_check_mark: No locks in the repository of \`${target}\`: nothing blocks backups, forget or prune.`;
  const problems = evidence.locks.some((l) => l.verdict.verdict !== 'live');
  const blocks = repositoryBlocks(evidence.locks.map((l) => l.lock));
  return `${problems ? ':warning:' : ':lock:'} ${plural(n, 'lock')} in the repository of \`${target}\`: ${verdictCounts(evidence.locks)}. ${blocks?.summary ?? ''}`.trim();
}
