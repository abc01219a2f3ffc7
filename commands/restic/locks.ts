/** `/restic locks <namespace> <app>`: every lock of the app's repository, judged. Read-only. */
import type { CommandContext } from '../../src/command/context.ts';
import type { Block, Reply } from '../../src/reply.ts';
import { errorReply } from '../../src/reply.ts';
import { formatInstant } from '../../src/restic/index.ts';
import type { Evidence } from './evidence.ts';
import { gatherEvidence } from './evidence.ts';
import { asUserErrors } from './failure.ts';
import { lockBlocks, moverLine, summaryLine } from './render.ts';
import { plural } from '../../src/text.ts';
import { withRepository } from '../../src/volsync/repository.ts';
import { resticOptions } from './restic-options.ts';
import { resolveSource } from '../../src/volsync/source.ts';
import { lockButtons } from './actions.ts';
import type { Kube } from '../../src/kube/client.ts';
import type { RunResticOptions } from '../../src/restic/index.ts';

/** What to do about the locks shown, one line per kind that is there. */
export function nextSteps(evidence: Pick<Evidence, 'locks'>, namespace: string, name: string): string[] {
  const of = (v: string) => evidence.locks.filter((l) => l.verdict.verdict === v);
  const stale = of('stale');
  const orphaned = of('orphaned');
  const unknown = of('unknown');
  const live = of('live');
  const steps: string[] = [];
  if (stale.length) steps.push(`• \`/restic unlock ${namespace} ${name}\` removes the ${plural(stale.length, 'stale lock')} (restic's own rule).`);
  if (orphaned.length) {
    const first = orphaned.map((l) => l.verdict.staleAt.getTime()).sort((a, b) => a - b)[0]!;
    steps.push(
      `• The ${plural(orphaned.length, 'orphaned lock')} ${orphaned.length === 1 ? 'is' : 'are'} dead but restic calls ${orphaned.length === 1 ? 'it' : 'them'} stale only from ${formatInstant(new Date(first))}; until then \`/restic unlock ${namespace} ${name} --remove-all\` clears ${orphaned.length === 1 ? 'it' : 'them'}, after an operator confirms.`,
    );
  }
  if (unknown.length) {
    const at = unknown.map((l) => l.verdict.orphanedAt.getTime()).sort((a, b) => b - a)[0]!;
    steps.push(
      `• The ${plural(unknown.length, 'unknown lock')} may still be in use: ${unknown.length === 1 ? 'its' : 'their'} mover pod is not here, but a mover elsewhere (another namespace or cluster) may hold ${unknown.length === 1 ? 'it' : 'them'}. Look again after ${formatInstant(new Date(at))}: a lock not refreshed by then is provably orphaned. Removing ${unknown.length === 1 ? 'it' : 'them'} sooner with \`/restic unlock ${namespace} ${name} --remove-all\` takes two operators.`,
    );
  }
  if (live.length) {
    steps.push(`• The ${plural(live.length, 'live lock')} ${live.length === 1 ? 'belongs' : 'belong'} to a restic that is still running: leave ${live.length === 1 ? 'it' : 'them'}. Removing ${live.length === 1 ? 'it' : 'them'} anyway takes two operators.`);
  }
  return steps;
}

/**
 * The next steps as buttons (for a transport that has them): "Unlock stale locks" when restic's
 * own rule removes some, "Remove all locks…" when a lock is left that plain unlock does not touch.
 * Both run the commands themselves, with the same operator rules and confirmations.
 */
export function lockActions(evidence: Pick<Evidence, 'locks'>, namespace: string, name: string): Block | undefined {
  const [stale, all] = lockButtons(namespace, name);
  const buttons = [
    ...(evidence.locks.some((l) => l.verdict.verdict === 'stale') ? [stale!] : []),
    ...(evidence.locks.some((l) => l.verdict.verdict !== 'stale') ? [all!] : []),
  ];
  return buttons.length ? { type: 'actions', buttons } : undefined;
}

export async function resticLocks(ctx: CommandContext, namespace: string, app: string): Promise<Reply> {
  return lockReport(ctx.services.kube!, namespace, app, { buttons: ctx.actor.buttons === true, restic: resticOptions(ctx), now: ctx.now });
}

/**
 * The /restic locks answer, for whoever asks: the command, and the backup watch's thread of a
 * source whose mover failed on a lock (the composition root hands it to the watch).
 */
export async function lockReport(kube: Kube, namespace: string, app: string, o: { buttons: boolean; restic: RunResticOptions; now: () => Date }): Promise<Reply> {
  const source = await resolveSource(kube, namespace, app, '/restic locks');
  const name = source.metadata?.name ?? app;
  const target = `${namespace}/${name}`;
  const { evidence, secretName } = await withRepository(kube, source, (repo) =>
    asUserErrors(async () => ({
      evidence: await gatherEvidence(kube, source, repo.target, repo.secretName, o.restic, o.now),
      secretName: repo.secretName,
    })),
  );
  const problems = evidence.locks.some((l) => l.verdict.verdict !== 'live');
  const steps = nextSteps(evidence, namespace, name);
  const blocks: Block[] = [
    { type: 'header', text: `restic locks · ${target}` },
    { type: 'section', text: [summaryLine(evidence, target), ...steps].join('\n') },
    ...lockBlocks(evidence),
    ...(o.buttons ? [lockActions(evidence, namespace, name)].filter((b) => b !== undefined) : []),
    {
      type: 'context',
      elements: [
        moverLine(evidence.movers, evidence.at, evidence.source),
        `Source \`${target}\`${name !== app ? ` (matched \`${app}\`)` : ''} · Secret \`${secretName}\` · read ${formatInstant(evidence.at)}`,
      ],
    },
  ];
  const text = evidence.locks.length
    ? `${plural(evidence.locks.length, 'lock')} in the repository of ${target}: ${evidence.locks.map((l) => `${l.lock.shortId} ${l.verdict.verdict}`).join(', ')}`
    : `No locks in the repository of ${target}.`;
  return { text, blocks, visibility: 'ephemeral', tone: problems ? 'warn' : evidence.locks.length ? 'info' : 'ok' };
}
