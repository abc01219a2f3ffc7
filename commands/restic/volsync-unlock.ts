/**
 * The VolSync path: newer VolSync runs `restic unlock` inside its own mover when
 * `spec.restic.unlock` changes, with the mover's network path and credentials, and records the value
 * in `status.restic.lastUnlocked`. The bot sets a new token there plus a manual trigger (a mover
 * only runs on a sync), then follows the source until the token shows up.
 */
import type { ActionInput, ActionResult, Answer, CommandContext } from '../../src/command/context.ts';
import { showsButtons } from '../../src/command/context.ts';
import type { Kube } from '../../src/kube/client.ts';
import { VOLSYNC, kubeErrorLine, statusCode } from '../../src/kube/client.ts';
import type { Block, Reply } from '../../src/reply.ts';
import { errorReply, escapeMrkdwn } from '../../src/reply.ts';
import { UserError } from '../../src/errors.ts';
import type { BackgroundWork } from '../../src/command/background.ts';
import { formatAge } from '../../src/restic/index.ts';
import { VOLSYNC_UNLOCK_ACTION, VOLSYNC_UNLOCK_AUDIT } from './actions.ts';
import { mention } from '../../src/command/context.ts';
import type { ReplicationSource } from '../../src/volsync/source.ts';
import { readSource } from '../../src/volsync/source.ts';
import { RESUME_SCHEDULE, mergePatchCmd, newToken, resumeSchedule, triggerManualSync } from '../../src/volsync/trigger.ts';
import { followSource } from '../../src/volsync/follow.ts';

export interface VolSyncFollowOptions {
  /** Stop following after this long (VolSync goes on). Default 30 minutes. */
  timeoutMs: number;
  /** Poll interval. Default 5 s. */
  pollMs: number;
}

export const DEFAULT_VOLSYNC_FOLLOW: VolSyncFollowOptions = { timeoutMs: 30 * 60_000, pollMs: 5000 };

const CRD_NAME = `${VOLSYNC.sources}.${VOLSYNC.group}`;
const SUPPORT_CACHE_MS = 10 * 60_000;

/** Whether a CRD's served schema has spec.restic.unlock (VolSync ≥ 0.12). */
export function crdHasResticUnlock(crd: unknown, version: string = VOLSYNC.version): boolean {
  const versions = (crd as { spec?: { versions?: Array<{ name?: string; served?: boolean; schema?: { openAPIV3Schema?: unknown } }> } })?.spec?.versions ?? [];
  const v = versions.find((x) => x.name === version && x.served !== false);
  const schema = v?.schema?.openAPIV3Schema as { properties?: Record<string, { properties?: Record<string, { properties?: Record<string, unknown> }> }> } | undefined;
  return Boolean(schema?.properties?.['spec']?.properties?.['restic']?.properties?.['unlock']);
}

/**
 * Whether the cluster's VolSync can run the unlock: the installed ReplicationSource CRD, read at
 * most every 10 minutes. One per bot (startBot makes it), so the cache lives and dies with the bot.
 */
export class VolSyncUnlockSupport {
  #cached: { kube: Kube; at: number; supported: boolean } | undefined;

  /** Any failure counts as "not supported". */
  async supported(kube: Kube, now: number = Date.now()): Promise<boolean> {
    const cached = this.#cached;
    if (cached && cached.kube === kube && now - cached.at < SUPPORT_CACHE_MS) return cached.supported;
    let supported = false;
    try {
      supported = crdHasResticUnlock(await kube.apiext.readCustomResourceDefinition({ name: CRD_NAME }));
    } catch {
      // No right to read CRDs, or no VolSync: the button is simply not offered.
    }
    this.#cached = { kube, at: now, supported };
    return supported;
  }
}

/** The button (and a line about it) under a /restic unlock reply, when VolSync can do it. */
export async function volsyncOffer(ctx: CommandContext, support: VolSyncUnlockSupport, source: ReplicationSource, why: string): Promise<Block[]> {
  const kube = ctx.services.kube;
  if (!kube || !(await support.supported(kube))) return [];
  const namespace = source.metadata?.namespace ?? '';
  const name = source.metadata?.name ?? '';
  const rec = await ctx.services.confirmations.create({
    action: VOLSYNC_UNLOCK_AUDIT,
    target: `${namespace}/${name}`,
    requester: ctx.actor,
    data: { namespace, name, uid: source.metadata?.uid ?? '' },
  });
  const blocks: Block[] = [
    {
      type: 'context',
      elements: [
        `${why} VolSync can run \`restic unlock\` inside its own mover instead (its network path, its credentials): it sets \`spec.restic.unlock\` and \`spec.trigger.manual\` to a new token, so a sync runs; done when \`status.restic.lastUnlocked\` shows the token.${showsButtons(ctx.actor) ? '' : ' (A button in Slack.)'}`,
      ],
    },
  ];
  if (showsButtons(ctx.actor)) {
    blocks.push({
      type: 'actions',
      buttons: [
        {
          text: 'Unlock through VolSync',
          actionId: VOLSYNC_UNLOCK_ACTION,
          value: rec.id,
          confirm: {
            title: 'Unlock through VolSync?',
            text: `Sets spec.restic.unlock and spec.trigger.manual on ReplicationSource ${namespace}/${name}: a sync runs, and its mover runs restic unlock first.`,
            confirm: 'Unlock via VolSync',
            deny: 'Cancel',
          },
        },
      ],
    });
  }
  return blocks;
}

/** Why VolSync would not run the unlock now, or undefined. */
export function volsyncRefusal(rs: ReplicationSource): string | undefined {
  const ns = rs.metadata?.namespace ?? '';
  const name = rs.metadata?.name ?? '';
  if (rs.spec?.paused) {
    return `\`${ns}/${name}\` is paused, so VolSync would run no mover and no unlock. Resume it first: \`kubectl patch replicationsource ${name} -n ${ns} --type merge -p '{"spec":{"paused":false}}'\``;
  }
  const manual = rs.spec?.trigger?.manual;
  if (manual && manual !== rs.status?.lastManualSync) {
    return `A manual sync of \`${ns}/${name}\` (\`${escapeMrkdwn(manual.slice(0, 60))}\`) is still pending; wait for it (\`/backup status ${ns} ${name}\`), then try again.`;
  }
  return undefined;
}

export type VolSyncOutcome =
  | { outcome: 'unlocked'; rs: ReplicationSource }
  | { outcome: 'failed'; rs: ReplicationSource; logs?: string }
  | { outcome: 'timeout' }
  | { outcome: 'gone' };

/** Polls until status.restic.lastUnlocked is the token, a new mover failure shows, the deadline or the abort. */
export async function followVolSyncUnlock(kube: Kube, namespace: string, name: string, token: string, before: ReplicationSource, opts: VolSyncFollowOptions, signal?: AbortSignal): Promise<VolSyncOutcome> {
  const o = await followSource(kube, namespace, name, before, (rs) => rs.status?.restic?.lastUnlocked === token, opts, signal);
  switch (o.outcome) {
    case 'done': return { outcome: 'unlocked', rs: o.rs };
    case 'failed': return { outcome: 'failed', rs: o.rs, ...(o.logs ? { logs: o.logs } : {}) };
    case 'timeout': return { outcome: 'timeout' };
    case 'gone': return { outcome: 'gone' };
  }
}

/** After a successful run on a scheduled source, the manual trigger goes so the schedule resumes (retried on conflict). */
async function resumeLine(kube: Kube, rs: ReplicationSource, token: string): Promise<string> {
  const ns = rs.metadata?.namespace ?? '';
  const name = rs.metadata?.name ?? '';
  const r = await resumeSchedule(kube, rs, token);
  if (r.outcome === 'left') return '';
  if (r.outcome === 'resumed') return ` The manual trigger is removed again, so the schedule \`${escapeMrkdwn(r.schedule)}\` resumes.`;
  return ` :warning: Could not remove the manual trigger (${r.why}); until it is removed the schedule waits: \`${mergePatchCmd(ns, name, RESUME_SCHEDULE)}\``;
}

export function volsyncOutcomeReply(o: VolSyncOutcome, target: string, token: string, tookMs: number, extra = ''): Reply {
  const took = formatAge(tookMs);
  switch (o.outcome) {
    case 'unlocked':
      return {
        text: `VolSync unlocked the repository of ${target} (token ${token}).`,
        blocks: [{ type: 'section', text: `:white_check_mark: VolSync ran \`restic unlock\` for \`${target}\` in its mover (${took} after the trigger): \`status.restic.lastUnlocked\` is \`${token}\`.${extra} \`/restic locks ${target.replace('/', ' ')}\` shows what is left.` }],
        visibility: 'channel',
        tone: 'ok',
      };
    case 'failed': {
      const blocks: Block[] = [{ type: 'section', text: `:red_circle: The VolSync mover for \`${target}\` failed (${took} after the trigger) before it recorded the unlock token.` }];
      const tail = o.logs?.trim().split('\n').slice(-12).join('\n');
      if (tail) blocks.push({ type: 'code', text: escapeMrkdwn(tail) });
      return { text: `The VolSync mover for ${target} failed.`, blocks, visibility: 'channel', tone: 'error' };
    }
    case 'timeout':
      return {
        text: `VolSync has not recorded the unlock of ${target} after ${took}.`,
        blocks: [{ type: 'section', text: `:hourglass_flowing_sand: VolSync has not recorded the unlock token \`${token}\` for \`${target}\` after ${took}; I stopped following. \`/backup status ${target.replace('/', ' ')}\` shows whether the sync runs.` }],
        visibility: 'channel',
        tone: 'warn',
      };
    case 'gone':
      return { text: `ReplicationSource ${target} was deleted.`, blocks: [{ type: 'section', text: `:warning: ReplicationSource \`${target}\` was deleted while I followed the VolSync unlock.` }], visibility: 'channel', tone: 'warn' };
  }
}

export async function approveVolSyncUnlock(input: ActionInput, ctx: CommandContext, approval: Answer, background: BackgroundWork, follow: VolSyncFollowOptions = DEFAULT_VOLSYNC_FOLLOW): Promise<ActionResult> {
  const { audit, log } = ctx.services;
  const kube = ctx.services.kube!;
  const rec = approval.record;
  const namespace = rec.data['namespace'] ?? '';
  const name = rec.data['name'] ?? '';
  const target = `${namespace}/${name}`;
  const requester = approval.requester;
  const confirmedBy = [input.actor];
  const refuse = (why: string): ActionResult => {
    audit.record({ actor: requester, action: VOLSYNC_UNLOCK_AUDIT, target, channel: input.channel, confirmedBy, outcome: 'refused', detail: why.replace(/[`*]/g, '').slice(0, 300) });
    return { thread: [errorReply(`Not unlocked through VolSync: ${why}`)] };
  };

  const rs = await readSource(kube, namespace, name);
  if (!rs) return refuse(`ReplicationSource \`${target}\` no longer exists.`);
  if (rec.data['uid'] && rs.metadata?.uid !== rec.data['uid']) return refuse(`ReplicationSource \`${target}\` was deleted and created again since; run \`/restic unlock\` again.`);
  const why = volsyncRefusal(rs);
  if (why) return refuse(why);

  const token = newToken(ctx.now(), 'unlock');
  try {
    await triggerManualSync(kube, rs, token, { restic: { unlock: token } });
  } catch (err) {
    const line = statusCode(err) === 409 ? `ReplicationSource \`${target}\` changed meanwhile; nothing was set. Try again.` : kubeErrorLine(err, `set spec.restic.unlock on ${target}`, kube);
    audit.record({ actor: requester, action: VOLSYNC_UNLOCK_AUDIT, target, channel: input.channel, confirmedBy, outcome: 'failed', detail: line });
    throw new UserError(line, statusCode(err) === 409 ? 'conflict' : 'failed');
  }
  const ran = [`kubectl patch replicationsource ${name} -n ${namespace} --type merge -p '{"spec":{"restic":{"unlock":"${token}"},"trigger":{"manual":"${token}"}}}'`];
  audit.record({ actor: requester, action: VOLSYNC_UNLOCK_AUDIT, target, channel: input.channel, confirmedBy, ran, outcome: 'confirmed' });

  const started = Date.now();
  background.start(async (signal) => {
    let result: Reply;
    try {
      const o = await followVolSyncUnlock(kube, namespace, name, token, rs, follow, signal);
      if (signal.aborted) return;
      const extra = o.outcome === 'unlocked' ? await resumeLine(kube, o.rs, token) : '';
      result = volsyncOutcomeReply(o, target, token, Date.now() - started, extra);
      audit.record({ actor: requester, action: VOLSYNC_UNLOCK_AUDIT, target, channel: input.channel, confirmedBy, ran, outcome: o.outcome === 'unlocked' ? 'succeeded' : 'failed', detail: o.outcome });
    } catch (err) {
      log.error({ err, target }, 'following a VolSync unlock failed');
      result = errorReply(`I lost track of the VolSync unlock of \`${target}\`; \`/backup status ${namespace} ${name}\` shows the source.`);
    }
    await ctx.notify(result).catch((err: unknown) => log.error({ err, target }, 'could not post the result of a VolSync unlock'));
  });

  return {
    thread: [
      {
        text: `VolSync unlock of ${target} requested (token ${token}).`,
        blocks: [
          { type: 'section', text: `:arrows_counterclockwise: ${mention(input.actor)} asked VolSync to unlock \`${target}\`: \`spec.restic.unlock\` and \`spec.trigger.manual\` are \`${token}\`. I'll post here when \`status.restic.lastUnlocked\` shows it (up to ${Math.round(follow.timeoutMs / 60_000)} minutes).` },
        ],
        visibility: 'channel',
        tone: 'info',
      },
    ],
  };
}
