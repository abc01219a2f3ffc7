/**
 * `/restic unlock <namespace> <app>`: plain `restic unlock`, which removes only what restic itself
 * calls stale, under the repository's Lease; reports what went, what stayed and why.
 */
import type { CommandContext } from '../../src/command/context.ts';
import { mention } from '../../src/command/context.ts';
import type { Block, Reply } from '../../src/reply.ts';
import { errorReply, escapeMrkdwn, inlineCode } from '../../src/reply.ts';
import { ResticError, formatAge, unlock } from '../../src/restic/index.ts';
import type { ResticLock, UnlockReport } from '../../src/restic/index.ts';
import { isUserError } from '../../src/errors.ts';
import { UNLOCK_AUDIT } from './actions.ts';
import { activeMovers, destinationsUsing, factsFrom, listPods } from './evidence.ts';
import { lockReasonText, lockSection, moverLine, sortLocks } from './render.ts';
import type { MoverState } from '../../src/volsync/mover-state.ts';
import { moverState } from '../../src/volsync/mover-state.ts';
import { plural } from '../../src/text.ts';
import { withRepository } from '../../src/volsync/repository.ts';
import { repositoryLease, underRepositoryLease } from './repository-lease.ts';
import { resticOptions } from './restic-options.ts';
import { resolveSource } from '../../src/volsync/source.ts';
import { volsyncOffer } from './volsync-unlock.ts';
import type { VolSyncUnlockSupport } from './volsync-unlock.ts';

function lockLine(l: ResticLock, now: Date): string {
  return `\`${l.shortId}\` ${l.exclusive ? 'exclusive' : 'shared'} · ${inlineCode(l.hostname, 100)} PID ${l.pid} · ${formatAge(now.getTime() - l.time.getTime())} old`;
}

export function unlockReportBlocks(report: UnlockReport, target: string, now: Date): Block[] {
  const [namespace = '', name = ''] = target.split('/');
  const blocks: Block[] = [];
  const head = report.removed.length
    ? `:white_check_mark: \`restic unlock\` removed ${plural(report.removed.length, 'stale lock')} from the repository of \`${target}\`:\n${report.removed.map((l) => `• ${lockLine(l, now)}`).join('\n')}`
    : `\`restic unlock\` removed nothing from the repository of \`${target}\`: ${report.before.length ? 'no lock there is stale by restic\'s rule' : 'there were no locks'}.`;
  blocks.push({ type: 'section', text: head });
  if (report.remaining.length) {
    blocks.push({ type: 'section', text: `*${plural(report.remaining.length, 'lock')} remain${report.remaining.length === 1 ? 's' : ''}:*` });
    const kept = new Map(report.remaining.map((r) => [r.lock.id, r.keptBecause]));
    const sorted = sortLocks(report.remaining.map((r) => ({ lock: r.lock, verdict: r.verdict })));
    for (const e of sorted.slice(0, 15)) {
      const section = lockSection(e, now);
      if (section.type === 'section') section.text += `\nKept: ${lockReasonText(kept.get(e.lock.id) ?? '', e.lock.hostname)}.`;
      blocks.push(section);
    }
    if (sorted.length > 15) blocks.push({ type: 'context', elements: [`…and ${sorted.length - 15} more.`] });
    const orphaned = sorted.filter((e) => e.verdict.verdict === 'orphaned').length;
    if (orphaned) {
      const one = orphaned === 1;
      blocks.push({ type: 'section', text: `The ${plural(orphaned, 'orphaned lock')} ${one ? 'is' : 'are'} dead but not stale yet: \`/restic unlock ${namespace} ${name} --remove-all\` shows the evidence and clears ${one ? 'it' : 'them'} after an operator confirms.` });
    }
  }
  const notes: string[] = [];
  if (report.refreshed.length) notes.push(`${plural(report.refreshed.length, 'lock')} ${report.refreshed.length === 1 ? 'was' : 'were'} refreshed meanwhile by a running restic (new ID, same holder): left alone.`);
  if (report.appeared.length) notes.push(`${plural(report.appeared.length, 'lock')} appeared while unlock ran: ${report.appeared.map((l) => lockLine(l, now)).join('; ')}.`);
  if (notes.length) blocks.push({ type: 'context', elements: notes });
  return blocks;
}

export async function plainUnlock(ctx: CommandContext, namespace: string, app: string, support: VolSyncUnlockSupport): Promise<Reply> {
  const { audit, log } = ctx.services;
  const kube = ctx.services.kube!;
  const source = await resolveSource(kube, namespace, app, '/restic unlock');
  const name = source.metadata?.name ?? app;
  const target = `${namespace}/${name}`;
  const base = { actor: ctx.actor, action: UNLOCK_AUDIT, target, channel: ctx.channel };
  let report: UnlockReport;
  let movers: ReturnType<typeof activeMovers> = [];
  let state: MoverState | undefined;
  try {
    report = await underRepositoryLease(repositoryLease(kube, namespace, name, ctx.actor), target, (signal) =>
      withRepository(kube, source, async (repo) => {
        const [pods, destinations] = await Promise.all([listPods(kube, namespace), destinationsUsing(kube, namespace, repo.secretName)]);
        movers = activeMovers(pods, name, destinations);
        state = moverState(source, pods);
        return unlock(repo.target, { ...resticOptions(ctx), signal, removeAll: false, facts: factsFrom(pods), now: ctx.now });
      }),
    );
  } catch (err) {
    if (isUserError(err, 'lease-held')) {
      audit.record({ ...base, outcome: 'refused', detail: err.message.replace(/[`*]/g, '').slice(0, 300) });
    }
    if (!(err instanceof ResticError)) throw err;
    audit.record({ ...base, ran: ['restic unlock'], outcome: 'failed', detail: err.message.replace(/`/g, '').slice(0, 300) });
    const reply = errorReply(err.message);
    // The bot cannot reach the backend, or reads it differently: the mover may still manage.
    if (err.kind === 'backend-unreachable' || err.kind === 'backend-tls' || err.kind === 'backend-auth' || err.kind === 'timeout') {
      reply.blocks.push(...(await volsyncOffer(ctx, support, source, 'The mover reaches the repository by its own path.').catch(() => [])));
      if (reply.blocks.some((b) => b.type === 'actions')) reply.visibility = 'channel';
    }
    return reply;
  }
  const now = ctx.now();
  audit.record({
    ...base,
    ran: ['restic unlock'],
    outcome: 'succeeded',
    detail: `removed ${report.removed.map((l) => l.shortId).join(',') || 'none'}; remaining ${report.remaining.map((r) => `${r.lock.shortId}(${r.verdict.verdict})`).join(',') || 'none'}`,
  });
  log.info({ target, removed: report.removed.map((l) => l.shortId), remaining: report.remaining.map((r) => r.lock.shortId) }, 'restic unlock done');

  const blocks: Block[] = [{ type: 'header', text: `restic unlock · ${target}` }, ...unlockReportBlocks(report, target, now)];
  blocks.push({ type: 'context', elements: [moverLine(movers, now, state), `Run by ${mention(ctx.actor)} · ${report.command}`] });
  if (report.remaining.length) {
    blocks.push(...(await volsyncOffer(ctx, support, source, 'Some locks remain.').catch((err: unknown) => {
      log.warn({ err }, 'could not offer the VolSync unlock');
      return [];
    })));
  }
  return {
    text: `restic unlock on ${target}: removed ${report.removed.length}, ${report.remaining.length} remaining.`,
    blocks,
    visibility: 'channel',
    tone: report.remaining.length ? 'warn' : 'ok',
  };
}
