/**
 * `/restic unlock <namespace> <app> --remove-all`: the evidence first (every lock with its verdict,
 * the active movers), then a confirmation bound to who asked, the repository and the exact lock IDs
 * shown. A live lock or an active mover needs a second, different operator. Once confirmed, under
 * the repository's Lease: pause the source, check again that no mover runs and that the locks are
 * the ones confirmed, check that no pod named in a lock runs in any namespace, `restic unlock
 * --remove-all`, check that none remains, and resume the source — always, also after a failure.
 */
import type { ActionInput, ActionResult, Answer, CommandContext, Actor } from '../../src/command/context.ts';
import { mention } from '../../src/command/context.ts';
import type { ConfirmationRecord } from '../../src/confirm/confirmations.ts';
import type { Kube } from '../../src/kube/client.ts';
import { kubeErrorLine } from '../../src/kube/client.ts';
import type { Block, Reply } from '../../src/reply.ts';
import { errorReply } from '../../src/reply.ts';
import { UserError, isUserError } from '../../src/errors.ts';
import { ResticError, formatInstant, listLocks, runResticChecked } from '../../src/restic/index.ts';
import type { ResticLock } from '../../src/restic/index.ts';
import { REMOVE_ALL_ACTION, REMOVE_ALL_AUDIT, REMOVE_ALL_CANCEL_ACTION } from './actions.ts';
import type { MoverPod } from './evidence.ts';
import { activeMovers, destinationsUsing, gatherEvidence, listMoverPodsEverywhere, listPods, lockDigest, podsHoldingLocks, secondApproverReason } from './evidence.ts';
import { failureLine } from './failure.ts';
import { PAUSED_BY, pauseCommand, pausedByValue, resume, setPaused } from '../../src/volsync/pause.ts';
import { lockBlocks, moverLine, summaryLine } from './render.ts';
import { plural } from '../../src/text.ts';
import { withRepository } from '../../src/volsync/repository.ts';
import { leaseName, repositoryLease, underRepositoryLease } from './repository-lease.ts';
import { resticOptions } from './restic-options.ts';
import type { ReplicationSource } from '../../src/volsync/source.ts';
import { readSource, resolveSource } from '../../src/volsync/source.ts';

export interface RemoveAllOptions {
  /** After pausing, how long to wait for an active mover pod to stop before refusing. Default 30 s. */
  moverStopWaitMs?: number;
  /** How often to look meanwhile. Default 2 s. */
  moverPollMs?: number;
  /** Runs right after the source was paused (tests use it to watch or to force a failure). */
  afterPause?: (source: { namespace: string; name: string }) => Promise<void>;
}

/** A step that found the world different from the confirmed evidence: nothing more is done. */
class Refusal extends Error {
  override name = 'Refusal';
}

export const SECOND_OPERATOR_TERMINAL = 'needs a second operator: run it from Slack';

/** Resume attempts after the work: 1 + 2 + … + 7 s apart (pause.ts backs off linearly). */
const RESUME_RETRY = { attempts: 8, delayMs: 1000 };

function actorOf(rec: ConfirmationRecord): Actor {
  return { id: rec.requester.id, via: rec.requester.via, ...(rec.requester.name ? { name: rec.requester.name } : {}) };
}

/** `<id>.<digest>`: the button carries the digest of what was shown, so an altered button does not match. */
export function confirmationValue(id: string, digest: string): string {
  return `${id}.${digest}`;
}

export { parseConfirmationValue } from './actions.ts';

function plan(namespace: string, name: string, lockCount: number, movers: readonly MoverPod[], paused: boolean): string[] {
  return [
    `• Take Lease \`${namespace}/${leaseName(name)}\`: one unlock of this repository at a time.`,
    paused
      ? `• The source is already paused (\`spec.paused: true\`): it stays paused afterwards.`
      : `• Pause the source: merge-patch \`spec.paused: true\` on ReplicationSource \`${namespace}/${name}\` (VolSync starts no mover meanwhile${movers.length ? ' and stops the active one' : ''}), with the annotation \`${PAUSED_BY}\` saying who and when.`,
    `• Check again that no mover pod runs (of this source, or in any namespace under a lock's host name) and that the locks are exactly the ${plural(lockCount, 'lock')} shown here; otherwise stop without removing anything.`,
    '• Run `restic unlock --remove-all`, then list the locks to verify that none remains.',
    paused ? '• Leave the source paused, as it was.' : '• Resume the source (`spec.paused: false`, the annotation removed): always, also when a step fails.',
  ];
}

export async function requestRemoveAll(ctx: CommandContext, namespace: string, app: string): Promise<Reply> {
  const { confirmations, audit } = ctx.services;
  const kube = ctx.services.kube!;
  const source = await resolveSource(kube, namespace, app, '/restic unlock');
  const name = source.metadata?.name ?? app;
  const target = `${namespace}/${name}`;
  const { evidence, secretName } = await withRepository(kube, source, async (repo) => {
    try {
      return { evidence: await gatherEvidence(kube, source, repo.target, repo.secretName, resticOptions(ctx), ctx.now), secretName: repo.secretName };
    } catch (err) {
      if (err instanceof ResticError) throw new UserError(err.message);
      throw err;
    }
  });
  const evidenceBlocks: Block[] = [
    { type: 'section', text: summaryLine(evidence, target) },
    ...lockBlocks(evidence),
    { type: 'context', elements: [moverLine(evidence.movers, evidence.at, evidence.source), `Secret \`${secretName}\` · read ${formatInstant(evidence.at)}`] },
  ];
  if (evidence.locks.length === 0) {
    return { text: `No locks in the repository of ${target}: nothing to remove.`, blocks: evidenceBlocks, visibility: 'ephemeral', tone: 'ok' };
  }

  const secondReason = secondApproverReason(evidence);
  if (secondReason && ctx.actor.via === 'terminal') {
    const line = `Refused: removing every lock now ${SECOND_OPERATOR_TERMINAL} (${secondReason.replace(/`/g, '')}, so two different operators must approve). Nothing was done.`;
    audit.record({ actor: ctx.actor, action: REMOVE_ALL_AUDIT, target, channel: ctx.channel, outcome: 'refused', detail: line });
    return { text: line, blocks: [...evidenceBlocks, { type: 'section', text: `:warning: ${line}` }], visibility: 'ephemeral', tone: 'error' };
  }

  const lockIds = evidence.locks.map((l) => l.lock.id).sort();
  const digest = lockDigest({ sourceUid: source.metadata?.uid ?? '', namespace, secretName, requester: ctx.actor.id, lockIds });
  const approvalsNeeded: 1 | 2 = secondReason ? 2 : 1;
  const rec = await confirmations.create({
    action: REMOVE_ALL_AUDIT,
    target,
    requester: ctx.actor,
    digest,
    approvalsNeeded,
    data: { namespace, name, uid: source.metadata?.uid ?? '', secret: secretName, locks: lockIds.join(',') },
  });
  audit.record({
    actor: ctx.actor, action: REMOVE_ALL_AUDIT, target, channel: ctx.channel, outcome: 'requested',
    detail: `locks ${evidence.locks.map((l) => `${l.lock.shortId}(${l.verdict.verdict})`).join(',')}; approvals needed ${approvalsNeeded}`,
  });

  const approvers = approvalsNeeded === 2
    ? `*Two different operators must approve*: ${secondReason}.`
    : 'An operator must approve.';
  const blocks: Block[] = [
    { type: 'header', text: `Remove ALL locks? · ${target}` },
    ...evidenceBlocks,
    { type: 'section', text: `*If confirmed:*\n${plan(namespace, name, evidence.locks.length, evidence.movers, source.spec?.paused === true).join('\n')}` },
    {
      type: 'context',
      elements: [`Requested by ${mention(ctx.actor)} · ${approvers.replace(/\*/g, '')} · within ${confirmations.ttlMinutes} minutes · bound to these ${plural(lockIds.length, 'lock ID')}`],
    },
  ];
  return {
    text: `Remove all ${plural(evidence.locks.length, 'lock')} from the repository of ${target}? ${approvalsNeeded === 2 ? 'Two operators must approve.' : 'An operator must approve.'}`,
    blocks,
    visibility: 'channel',
    tone: 'warn',
    confirmation: {
      actionId: REMOVE_ALL_ACTION,
      token: confirmationValue(rec.id, digest),
      question: `Remove all ${plural(evidence.locks.length, 'lock')} (${evidence.locks.map((l) => `\`${l.lock.shortId}\``).join(', ')}) from the repository of \`${target}\`? A restic still using one of them may fail. ${approvers}`,
      confirmLabel: 'Remove all locks',
      cancelActionId: REMOVE_ALL_CANCEL_ACTION,
    },
  };
}

/** Pods of the movers that still run, after waiting up to `waitMs` for them to stop. */
async function moversAfterPause(kube: Kube, namespace: string, name: string, secretName: string, waitMs: number, pollMs: number): Promise<MoverPod[]> {
  const destinations = await destinationsUsing(kube, namespace, secretName);
  const deadline = Date.now() + waitMs;
  for (;;) {
    const movers = activeMovers(await listPods(kube, namespace), name, destinations);
    if (movers.length === 0 || Date.now() >= deadline) return movers;
    await new Promise((r) => setTimeout(r, Math.min(pollMs, Math.max(0, deadline - Date.now()))));
  }
}

/**
 * Pods in any namespace that a lock's host names and that have not finished, after waiting up to
 * `waitMs` for them to stop. A mover elsewhere (a restore from the same repository in another
 * namespace, or one started after the evidence was read) is not stopped by pausing this source.
 */
async function lockHostsAfterPause(kube: Kube, locks: readonly ResticLock[], waitMs: number, pollMs: number): Promise<ReturnType<typeof podsHoldingLocks>> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    let pods;
    try {
      pods = await listMoverPodsEverywhere(kube);
    } catch (err) {
      if (err instanceof UserError) throw new Refusal(`could not check the mover pods of every namespace (${err.message}), so a restic elsewhere may still hold one of the locks.`);
      throw err;
    }
    const holders = podsHoldingLocks(pods, locks);
    if (holders.length === 0 || Date.now() >= deadline) return holders;
    await new Promise((r) => setTimeout(r, Math.min(pollMs, Math.max(0, deadline - Date.now()))));
  }
}

interface Execution {
  outcome: 'succeeded' | 'failed' | 'refused';
  /** What happened, in order, for the thread. */
  lines: string[];
  ran: string[];
  removed: string[];
  remaining: ResticLock[];
  /** Set when the source could not be resumed: the loud part. */
  resumeFailed?: string;
}

async function execute(ctx: CommandContext, rec: ConfirmationRecord, approver: Actor, opts: RemoveAllOptions): Promise<Execution> {
  const kube = ctx.services.kube!;
  const namespace = rec.data['namespace'] ?? '';
  const name = rec.data['name'] ?? '';
  const target = `${namespace}/${name}`;
  const confirmed = (rec.data['locks'] ?? '').split(',').filter(Boolean);
  const ex: Execution = { outcome: 'failed', lines: [], ran: [], removed: [], remaining: [] };
  try {
    await underRepositoryLease(repositoryLease(kube, namespace, name, approver), target, async (signal) => {
      const source: ReplicationSource | undefined = await readSource(kube, namespace, name);
      if (!source) throw new Refusal(`ReplicationSource \`${target}\` no longer exists.`);
      if (rec.data['uid'] && source.metadata?.uid !== rec.data['uid']) throw new Refusal(`ReplicationSource \`${target}\` was deleted and created again since the evidence was shown.`);
      if (source.spec?.restic?.repository !== rec.data['secret']) throw new Refusal(`ReplicationSource \`${target}\` now takes its repository from another Secret (\`${source.spec?.restic?.repository ?? 'none'}\`).`);
      const wasPaused = source.spec?.paused === true;
      let paused = false;
      try {
        if (!wasPaused) {
          // The mark says who paused it and when (the backup watch tells the incident's thread); the resume removes it.
          const by = pausedByValue(approver.id, ctx.now(), 'backup-bot --remove-all');
          try {
            await setPaused(kube, namespace, name, true, by);
          } catch (err) {
            throw new UserError(kubeErrorLine(err, `pause ReplicationSource ${target}`, kube));
          }
          paused = true;
          ex.ran.push(pauseCommand(namespace, name, true, by));
          ex.lines.push(`Paused \`${target}\` (\`spec.paused: true\`).`);
        } else {
          ex.lines.push(`\`${target}\` was already paused; it stays paused.`);
        }
        await opts.afterPause?.({ namespace, name });

        const movers = await moversAfterPause(kube, namespace, name, rec.data['secret'] ?? '', opts.moverStopWaitMs ?? 30_000, opts.moverPollMs ?? 2000);
        if (movers.length) throw new Refusal(`a mover still runs after pausing: ${movers.map((m) => `\`${m.name}\` (${m.phase})`).join(', ')}.`);
        ex.lines.push('No mover pod runs.');

        await withRepository(kube, source, async (repo) => {
          const run = { ...resticOptions(ctx), signal };
          const current = await listLocks(repo.target, run);
          const ids = current.map((l) => l.id).sort();
          const digest = lockDigest({ sourceUid: rec.data['uid'] ?? '', namespace, secretName: repo.secretName, requester: rec.requester.id, lockIds: ids });
          if (digest !== rec.digest) {
            const added = current.filter((l) => !confirmed.includes(l.id));
            const gone = confirmed.filter((id) => !ids.includes(id));
            const diff = [
              added.length ? `new since the evidence: ${added.map((l) => `\`${l.shortId}\` (${l.hostname}, PID ${l.pid})`).join(', ')}` : '',
              gone.length ? `gone since: ${gone.map((id) => `\`${id.slice(0, 8)}\``).join(', ')}` : '',
            ].filter(Boolean).join('; ');
            throw new Refusal(`the locks differ from the ${plural(confirmed.length, 'lock')} that were confirmed (${diff || 'a different set'}). Run the command again to see fresh evidence.`);
          }
          const holders = await lockHostsAfterPause(kube, current, opts.moverStopWaitMs ?? 30_000, opts.moverPollMs ?? 2000);
          if (holders.length) {
            throw new Refusal(`a pod that a lock names still runs: ${holders.map((p) => `\`${p.namespace}/${p.name}\` (${p.phase})`).join(', ')}; its restic may be using the repository.`);
          }
          ex.lines.push('No pod that a lock names runs in any namespace.');
          if (signal.aborted) throw new Refusal('the repository Lease was lost before the unlock; nothing was removed.');
          await runResticChecked(repo.target, ['unlock', '--remove-all'], run);
          ex.ran.push('restic unlock --remove-all');
          const after = await listLocks(repo.target, run);
          ex.removed = confirmed.filter((id) => !after.some((l) => l.id === id));
          ex.remaining = after;
        });
        if (ex.remaining.length === 0) {
          ex.outcome = 'succeeded';
          ex.lines.push(`Removed ${plural(ex.removed.length, 'lock')} (${ex.removed.map((id) => `\`${id.slice(0, 8)}\``).join(', ')}); listing the locks again finds none.`);
        } else {
          ex.outcome = 'failed';
          ex.lines.push(
            `Removed ${plural(ex.removed.length, 'lock')}, but ${plural(ex.remaining.length, 'lock')} ${ex.remaining.length === 1 ? 'is' : 'are'} there now: ${ex.remaining.map((l) => `\`${l.shortId}\` (${l.hostname}, PID ${l.pid})`).join(', ')} — a restic is running against the repository.`,
          );
        }
      } finally {
        if (paused) {
          // Long enough to outlast an API server restart (about 30 s in all), within the Lease.
          const failed = await resume(kube, namespace, name, RESUME_RETRY);
          if (failed) {
            ex.resumeFailed = failed;
          } else {
            ex.ran.push(pauseCommand(namespace, name, false));
            ex.lines.push(`Resumed \`${target}\` (\`spec.paused: false\`).`);
          }
        }
      }
    });
  } catch (err) {
    if (err instanceof Refusal) {
      ex.outcome = 'refused';
      ex.lines.push(`Stopped: ${err.message}`);
    } else {
      const line = failureLine(err);
      if (line === undefined) {
        ctx.services.log.error({ err, target }, 'restic unlock --remove-all failed');
        ex.lines.push('Failed: an internal error occurred (details in the bot\'s log).');
      } else {
        ex.lines.push(`Failed: ${line}`);
      }
      // A refusal to take the Lease: nothing at all was done.
      ex.outcome = ex.ran.length === 0 && isUserError(err, 'lease-held') ? 'refused' : 'failed';
    }
  }
  return ex;
}

function outcomeReply(ex: Execution, rec: ConfirmationRecord, target: string, confirmedBy: readonly Actor[]): Reply {
  const head = ex.outcome === 'succeeded'
    ? `:white_check_mark: All locks removed from the repository of \`${target}\`.`
    : ex.outcome === 'refused'
      ? `:warning: Not run: nothing was removed from the repository of \`${target}\`.`
      : `:red_circle: \`restic unlock --remove-all\` on \`${target}\` did not finish cleanly.`;
  const blocks: Block[] = [{ type: 'section', text: [head, ...ex.lines.map((l) => `• ${l}`)].join('\n') }];
  if (ex.resumeFailed) {
    const [namespace = '', name = ''] = target.split('/');
    blocks.unshift({
      type: 'section',
      text: `:rotating_light: *\`${target}\` is still PAUSED*: resuming it failed (${ex.resumeFailed}). No backups run until it is resumed. Fix it now:\n\`${pauseCommand(namespace, name, false)}\``,
    });
  }
  blocks.push({
    type: 'context',
    elements: [
      `Audit: asked by ${mention(actorOf(rec))} · confirmed by ${confirmedBy.map((a) => mention(a)).join(' and ')} · ran ${ex.ran.length ? ex.ran.map((r) => `\`${r}\``).join(', ') : 'nothing'} · outcome ${ex.outcome}`,
    ],
  });
  const text = ex.resumeFailed
    ? `${target} is still PAUSED: resuming it failed. Run: ${pauseCommand(...(target.split('/') as [string, string]), false)}`
    : `restic unlock --remove-all on ${target}: ${ex.outcome}.`;
  return { text, blocks, visibility: 'channel', tone: ex.outcome === 'succeeded' && !ex.resumeFailed ? 'ok' : 'error' };
}

export async function approveRemoveAll(input: ActionInput, ctx: CommandContext, approval: Answer, opts: RemoveAllOptions = {}): Promise<ActionResult> {
  const { audit, log } = ctx.services;
  const rec = approval.record;
  const target = rec.target;
  const requester = approval.requester;
  if (approval.status === 'waiting') {
    audit.record({ actor: requester, action: REMOVE_ALL_AUDIT, target, channel: input.channel, confirmedBy: [input.actor], outcome: 'confirmed', detail: `approval 1 of ${rec.approvalsNeeded}` });
    if (input.actor.via === 'terminal') {
      return { ephemeral: errorReply(`Refused: this ${SECOND_OPERATOR_TERMINAL}. Nothing was done.`) };
    }
    const line = `${mention(input.actor)} approved removing every lock from \`${target}\` (1 of ${rec.approvalsNeeded}). Waiting for a second operator: another operator must click *Remove all locks* before ${rec.expiresAt.slice(11, 16)} UTC.`;
    return { thread: [{ text: line.replace(/[*`]/g, ''), blocks: [{ type: 'section', text: `:hourglass_flowing_sand: ${line}` }], visibility: 'channel', tone: 'info' }] };
  }

  const confirmedBy: Actor[] = rec.approvals.map((a) => ({ id: a.id, via: input.actor.via, ...(a.name ? { name: a.name } : {}) }));
  const ex = await execute(ctx, rec, input.actor, opts);
  audit.record({
    actor: requester, action: REMOVE_ALL_AUDIT, target, channel: input.channel, confirmedBy, ran: ex.ran, outcome: ex.resumeFailed ? 'failed' : ex.outcome,
    detail: [...ex.lines, ex.resumeFailed ? `SOURCE STILL PAUSED: ${ex.resumeFailed}` : ''].filter(Boolean).join(' ').replace(/`/g, '').slice(0, 1000),
  });
  if (ex.resumeFailed) log.error({ target, reason: ex.resumeFailed }, 'the source is still paused after restic unlock --remove-all; resume it by hand');
  const result = outcomeReply(ex, rec, target, confirmedBy);
  const summary = ex.outcome === 'succeeded' ? `Done: all locks removed from \`${target}\`` : ex.outcome === 'refused' ? `Not run on \`${target}\`` : `Failed on \`${target}\``;
  return {
    replace: {
      text: `${summary.replace(/`/g, '')} (confirmed by ${confirmedBy.map((a) => a.name ?? a.id).join(' and ')}). Details in the thread.`,
      blocks: [{ type: 'section', text: `${summary} — requested by ${mention(requester)}, confirmed by ${confirmedBy.map((a) => mention(a)).join(' and ')}. Details in the thread.` }],
      visibility: 'channel',
      tone: result.tone ?? 'info',
    },
    thread: [result],
  };
}

export async function cancelRemoveAll(input: ActionInput, ctx: CommandContext, answer: Answer): Promise<ActionResult> {
  const { audit } = ctx.services;
  const rec = answer.record;
  audit.record({ actor: answer.requester, action: REMOVE_ALL_AUDIT, target: rec.target, channel: input.channel, confirmedBy: [input.actor], outcome: 'cancelled' });
  return {
    replace: {
      text: `Cancelled: no lock was removed from ${rec.target}.`,
      blocks: [{ type: 'section', text: `Cancelled by ${mention(input.actor)}: no lock was removed from \`${rec.target}\`.` }],
      visibility: 'channel',
      tone: 'info',
    },
  };
}
