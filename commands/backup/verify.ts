/**
 * /backup verify <namespace> <name>: proof that the backup restores, after an operator confirms.
 * `restic check` over a share of the data, then a restore drill of a bounded sample of the newest
 * snapshot into a private temporary directory (src/restic/restore-drill.ts), compared with the
 * snapshot's listing. Runs under the repository's Lease (never beside a bot unlock), refuses
 * while a restic holds an exclusive lock (prune, a --remove-all), and reports in the thread.
 */
import type { ActionInput, ActionResult, Answer, CommandContext } from '../../src/command/context.ts';
import { mention } from '../../src/command/context.ts';
import type { BackgroundWork } from '../../src/command/background.ts';
import type { Reply } from '../../src/reply.ts';
import { errorReply } from '../../src/reply.ts';
import { UserError } from '../../src/errors.ts';
import { bytes, duration, plural } from '../../src/text.ts';
import { formatInstant, listLocks } from '../../src/restic/index.ts';
import { restoreDrill } from '../../src/restic/restore-drill.ts';
import type { DrillReport } from '../../src/restic/restore-drill.ts';
import { withRepository } from '../../src/volsync/repository.ts';
import { readSource, resolveSource } from '../../src/volsync/source.ts';
import { asUserErrors, failureLine } from '../restic/failure.ts';
import { resticOptions } from '../restic/restic-options.ts';
import { repositoryLease, underRepositoryLease } from '../restic/repository-lease.ts';
import { VERIFY_ACTION, VERIFY_AUDIT_ACTION, VERIFY_CANCEL_ACTION } from './actions.ts';

export async function requestVerify(ctx: CommandContext, namespace: string, asked: string): Promise<Reply> {
  const { confirmations, audit, config } = ctx.services;
  const kube = ctx.services.kube!;
  const rs = await resolveSource(kube, namespace, asked, '/backup verify');
  const name = rs.metadata?.name ?? asked;
  const target = `${namespace}/${name}`;
  const v = config.verify;
  const record = await confirmations.create({ action: VERIFY_AUDIT_ACTION, target, requester: ctx.actor, data: { namespace, name, uid: rs.metadata?.uid ?? '' } });
  audit.record({ actor: ctx.actor, action: VERIFY_AUDIT_ACTION, target, channel: ctx.channel, outcome: 'requested' });
  const steps = [
    `• \`restic check --read-data-subset=${v.readDataSubset}\` on the repository in Secret \`${rs.spec?.restic?.repository ?? '?'}\` (reads ${v.readDataSubset} of the data back; takes a shared lock, as a backup does).`,
    `• Restore up to ${plural(v.sampleFiles, 'file')} and ${bytes(v.sampleMegabytes * 1024 * 1024)} of the newest snapshot, spread over its tree, into a private temporary directory of the bot, with \`--verify\`; compare them with the snapshot's own listing; remove the directory.`,
    '• Nothing in the cluster or the repository changes. The result is posted in this thread.',
  ];
  return {
    text: `Verify that ${target} restores? An operator must confirm.`,
    blocks: [
      { type: 'section', text: `*Verify that \`${target}\` restores?*\n${steps.join('\n')}` },
      { type: 'context', elements: [`Requested by ${mention(ctx.actor)} · an operator must confirm within ${confirmations.ttlMinutes} minutes`] },
    ],
    visibility: 'channel',
    tone: 'info',
    confirmation: { actionId: VERIFY_ACTION, token: record.id, question: `Run restic check and a restore drill on the repository of \`${target}\`?`, confirmLabel: 'Verify now', cancelActionId: VERIFY_CANCEL_ACTION },
  };
}

/** The drill's outcome as the thread reads it: one verdict line first, then what was checked. */
export function verifyReply(target: string, r: DrillReport, tookMs: number): Reply {
  const ok = r.problems.length === 0;
  const head = ok
    ? `:white_check_mark: \`${target}\` is restorable: ${plural(r.verified.files, 'file')}, ${bytes(r.verified.bytes)} restored and verified from snapshot \`${r.snapshot!.shortId}\` (${formatInstant(r.snapshot!.time)}); check passed.`
    : `:red_circle: Verifying \`${target}\` failed: ${r.problems[0]}`;
  const details = [
    ...r.problems.slice(1).map((p) => `• ${p}`),
    `• ${r.check.ok ? ':white_check_mark:' : ':x:'} ${r.check.line}.`,
    ...(r.snapshot ? [`• Sample: ${plural(r.sampled.length, 'file')} of ${r.listed} in snapshot \`${r.snapshot.shortId}\`; ${plural(r.verified.files, 'file')}, ${bytes(r.verified.bytes)} matched its listing.`] : []),
  ];
  return {
    text: ok ? `${target} is restorable: ${r.verified.files} files, ${r.verified.bytes} bytes verified, check passed.` : `Verifying ${target} failed: ${r.problems[0]!.replace(/[`*]/g, '')}`,
    blocks: [{ type: 'section', text: [head, ...details].join('\n') }, { type: 'context', elements: [`Took ${duration(tookMs)} · the temporary directory is removed`] }],
    visibility: 'channel',
    tone: ok ? 'ok' : 'error',
  };
}

export async function approveVerify(input: ActionInput, ctx: CommandContext, approval: Answer, background: BackgroundWork): Promise<ActionResult> {
  const { audit, log, config } = ctx.services;
  const kube = ctx.services.kube!;
  const rec = approval.record;
  const namespace = rec.data.namespace ?? '';
  const name = rec.data.name ?? '';
  const target = `${namespace}/${name}`;
  const requester = approval.requester;
  const confirmedBy = rec.approvals.map((a) => ({ id: a.id, name: a.name, via: input.actor.via }));
  const rs = await readSource(kube, namespace, name);
  if (!rs || (rec.data.uid && rs.metadata?.uid !== rec.data.uid)) {
    const why = `ReplicationSource \`${target}\` is gone or was made again since the question was asked; run the command again.`;
    audit.record({ actor: requester, action: VERIFY_AUDIT_ACTION, target, channel: input.channel, confirmedBy, outcome: 'refused', detail: why.replace(/`/g, '') });
    return { replace: errorReply(why) };
  }
  const ran = [`restic check --read-data-subset=${config.verify.readDataSubset}`, 'restic ls --json', 'restic restore --verify'];
  audit.record({ actor: requester, action: VERIFY_AUDIT_ACTION, target, channel: input.channel, confirmedBy, ran, outcome: 'confirmed' });
  const started = Date.now();
  background.start(async (signal) => {
    let result: Reply;
    try {
      const report = await underRepositoryLease(repositoryLease(kube, namespace, name, input.actor), target, () =>
        withRepository(kube, rs, (repo) => asUserErrors(async () => {
          const opts = { ...resticOptions(ctx), signal };
          const exclusive = (await listLocks(repo.target, opts)).find((l) => l.exclusive);
          if (exclusive) throw new UserError(`An exclusive lock (\`${exclusive.shortId}\`, host \`${exclusive.hostname}\`) is in the repository of \`${target}\`: a prune or an unlock works on it. Nothing was checked; \`/restic locks ${namespace} ${name}\` shows it.`);
          return restoreDrill(repo.target, { ...opts, readDataSubset: config.verify.readDataSubset, maxFiles: config.verify.sampleFiles, maxBytes: config.verify.sampleMegabytes * 1024 * 1024 });
        })));
      if (signal.aborted) return;
      result = verifyReply(target, report, Date.now() - started);
      audit.record({ actor: requester, action: VERIFY_AUDIT_ACTION, target, channel: input.channel, confirmedBy, ran, outcome: report.problems.length ? 'failed' : 'succeeded', detail: report.problems.length ? report.problems[0]!.replace(/`/g, '').slice(0, 300) : `${report.verified.files} files, ${report.verified.bytes} bytes` });
    } catch (err) {
      const line = failureLine(err);
      if (!line) log.error({ err, target }, 'verifying a repository failed');
      audit.record({ actor: requester, action: VERIFY_AUDIT_ACTION, target, channel: input.channel, confirmedBy, ran, outcome: 'failed', detail: (line ?? 'internal error').replace(/`/g, '').slice(0, 300) });
      result = errorReply(line ? `Verifying \`${target}\` failed: ${line}` : `Verifying \`${target}\` failed unexpectedly; the details are in the bot's log.`);
      result.visibility = 'channel';
    }
    await ctx.notify(result).catch((err: unknown) => log.error({ err, target }, 'could not post the result of a verify'));
  });
  return {
    replace: {
      text: `Verifying ${target}; I'll post the result here.`,
      blocks: [{ type: 'section', text: `:hourglass_flowing_sand: Verifying \`${target}\`: confirmed by ${mention(input.actor, { id: input.actor.id })}. restic check, then the restore drill; I'll post the result in this thread.` }],
      visibility: 'channel',
      tone: 'info',
    },
  };
}

export async function cancelVerify(input: ActionInput, ctx: CommandContext, answer: Answer): Promise<ActionResult> {
  ctx.services.audit.record({ actor: answer.requester, action: VERIFY_AUDIT_ACTION, target: answer.record.target, channel: input.channel, confirmedBy: [input.actor], outcome: 'cancelled' });
  return { replace: { text: `Cancelled: ${answer.record.target} was not verified.`, blocks: [{ type: 'section', text: `Cancelled by ${mention(input.actor, { id: input.actor.id })}: \`${answer.record.target}\` was not verified.` }], visibility: 'channel', tone: 'info' } };
}
