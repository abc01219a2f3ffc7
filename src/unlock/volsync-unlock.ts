/**
 * The VolSync path: newer VolSync runs `restic unlock` inside its own mover when
 * `spec.restic.unlock` changes, with the mover's network path and credentials, and records the value
 * in `status.restic.lastUnlocked`. The bot sets a new token there plus a manual trigger (a mover
 * only runs on a sync), then follows the source until the token shows up.
 */
import { randomBytes } from 'node:crypto';
import type { ActionInput, ActionResult, CommandContext } from '../command/context.ts';
import type { Kube } from '../kube/client.ts';
import { MERGE_PATCH, VOLSYNC, kubeErrorLine, statusCode } from '../kube/client.ts';
import type { Block, Reply } from '../reply.ts';
import { errorReply, escapeMrkdwn } from '../reply.ts';
import { UserError } from '../errors.ts';
import { approveAudited } from '../confirm/confirmations.ts';
import { formatAge } from '../restic/index.ts';
import { VOLSYNC_UNLOCK_ACTION, VOLSYNC_UNLOCK_AUDIT } from './actions.ts';
import { who } from './render.ts';
import type { UnlockSource } from './source.ts';
import { readSource } from './source.ts';

export interface VolSyncFollowOptions {
  /** Stop following after this long (VolSync goes on). Default 30 minutes. */
  timeoutMs: number;
  /** Poll interval. Default 5 s. */
  pollMs: number;
}

export const DEFAULT_VOLSYNC_FOLLOW: VolSyncFollowOptions = { timeoutMs: 30 * 60_000, pollMs: 5000 };

const CRD_NAME = `${VOLSYNC.sources}.${VOLSYNC.group}`;
const SUPPORT_CACHE_MS = 10 * 60_000;
const supportCache = new WeakMap<Kube, { at: number; supported: boolean }>();

/** Whether a CRD's served schema has spec.restic.unlock (VolSync ≥ 0.12). */
export function crdHasResticUnlock(crd: unknown, version: string = VOLSYNC.version): boolean {
  const versions = (crd as { spec?: { versions?: Array<{ name?: string; served?: boolean; schema?: { openAPIV3Schema?: unknown } }> } })?.spec?.versions ?? [];
  const v = versions.find((x) => x.name === version && x.served !== false);
  const schema = v?.schema?.openAPIV3Schema as { properties?: Record<string, { properties?: Record<string, { properties?: Record<string, unknown> }> }> } | undefined;
  return Boolean(schema?.properties?.['spec']?.properties?.['restic']?.properties?.['unlock']);
}

/** Reads the installed ReplicationSource CRD (cached for 10 minutes). Any failure counts as "not supported". */
export async function volsyncSupportsUnlock(kube: Kube, now: number = Date.now()): Promise<boolean> {
  const cached = supportCache.get(kube);
  if (cached && now - cached.at < SUPPORT_CACHE_MS) return cached.supported;
  let supported = false;
  try {
    supported = crdHasResticUnlock(await kube.apiext.readCustomResourceDefinition({ name: CRD_NAME }));
  } catch {
    // No right to read CRDs, or no VolSync: the button is simply not offered.
  }
  supportCache.set(kube, { at: now, supported });
  return supported;
}

/** The button (and a line about it) under a /restic unlock reply, when VolSync can do it. */
export async function volsyncOffer(ctx: CommandContext, source: UnlockSource, why: string): Promise<Block[]> {
  const kube = ctx.services.kube;
  if (!kube || !(await volsyncSupportsUnlock(kube))) return [];
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
        `${why} VolSync can run \`restic unlock\` inside its own mover instead (its network path, its credentials): it sets \`spec.restic.unlock\` and \`spec.trigger.manual\` to a new token, so a sync runs; done when \`status.restic.lastUnlocked\` shows the token.${ctx.actor.via === 'terminal' ? ' (A button in Slack.)' : ''}`,
      ],
    },
  ];
  if (ctx.actor.via === 'slack') {
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

function newToken(now: Date): string {
  return `backup-bot-unlock-${now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z')}-${randomBytes(3).toString('hex')}`;
}

/** Why VolSync would not run the unlock now, or undefined. */
export function volsyncRefusal(rs: UnlockSource): string | undefined {
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
  | { outcome: 'unlocked'; rs: UnlockSource }
  | { outcome: 'failed'; rs: UnlockSource; logs?: string }
  | { outcome: 'timeout' }
  | { outcome: 'gone' };

/** Polls until status.restic.lastUnlocked is the token, a new mover failure shows, or the deadline. */
export async function followVolSyncUnlock(kube: Kube, namespace: string, name: string, token: string, before: UnlockSource, opts: VolSyncFollowOptions, signal?: AbortSignal): Promise<VolSyncOutcome> {
  const deadline = Date.now() + opts.timeoutMs;
  const previous = before.status?.latestMoverStatus;
  while (Date.now() < deadline && !signal?.aborted) {
    await new Promise<void>((r) => setTimeout(r, Math.min(opts.pollMs, Math.max(0, deadline - Date.now()))).unref());
    let rs: UnlockSource | undefined;
    try {
      rs = await readSource(kube, namespace, name);
    } catch {
      continue; // The API server may be restarting: keep following until the deadline.
    }
    if (!rs) return { outcome: 'gone' };
    if (rs.status?.restic?.lastUnlocked === token) return { outcome: 'unlocked', rs };
    const mover = rs.status?.latestMoverStatus;
    if (mover?.result === 'Failed' && (previous?.result !== 'Failed' || previous.logs !== mover.logs)) {
      return { outcome: 'failed', rs, ...(mover.logs ? { logs: mover.logs } : {}) };
    }
  }
  return { outcome: 'timeout' };
}

/** After a successful run on a scheduled source, drops the manual trigger so the schedule resumes. */
async function resumeSchedule(kube: Kube, rs: UnlockSource, token: string): Promise<string> {
  const ns = rs.metadata?.namespace ?? '';
  const name = rs.metadata?.name ?? '';
  const schedule = rs.spec?.trigger?.schedule;
  if (!schedule || rs.spec?.trigger?.manual !== token) return '';
  try {
    await kube.custom.patchNamespacedCustomObject(
      { group: VOLSYNC.group, version: VOLSYNC.version, plural: VOLSYNC.sources, namespace: ns, name, body: { metadata: { resourceVersion: rs.metadata?.resourceVersion }, spec: { trigger: { manual: null } } } },
      MERGE_PATCH,
    );
    return ` The manual trigger is removed again, so the schedule \`${escapeMrkdwn(schedule)}\` resumes.`;
  } catch (err) {
    return ` :warning: Could not remove the manual trigger (${kubeErrorLine(err, 'patch the source', kube)}); until it is removed the schedule waits: \`kubectl patch replicationsource ${name} -n ${ns} --type merge -p '{"spec":{"trigger":{"manual":null}}}'\``;
  }
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

export async function approveVolSyncUnlock(input: ActionInput, ctx: CommandContext, follow: VolSyncFollowOptions = DEFAULT_VOLSYNC_FOLLOW): Promise<ActionResult> {
  const { kube, confirmations, audit, access, log } = ctx.services;
  const denied = await access.checkOperator(input.actor);
  if (denied) {
    audit.record({ actor: input.actor, action: VOLSYNC_UNLOCK_AUDIT, target: 'confirmation', channel: input.channel, outcome: 'denied' });
    return { ephemeral: errorReply(denied) };
  }
  if (!kube) return { ephemeral: errorReply('No Kubernetes cluster is configured.') };
  const rec = (await approveAudited(confirmations, audit, { id: input.value, actor: input.actor, expect: { action: VOLSYNC_UNLOCK_AUDIT }, channel: input.channel })).record;
  const namespace = rec.data['namespace'] ?? '';
  const name = rec.data['name'] ?? '';
  const target = `${namespace}/${name}`;
  const requester = { id: rec.requester.id, via: rec.requester.via, ...(rec.requester.name ? { name: rec.requester.name } : {}) };
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

  const token = newToken(ctx.now());
  try {
    await kube.custom.patchNamespacedCustomObject(
      {
        group: VOLSYNC.group, version: VOLSYNC.version, plural: VOLSYNC.sources, namespace, name,
        body: { metadata: { resourceVersion: rs.metadata?.resourceVersion }, spec: { restic: { unlock: token }, trigger: { manual: token } } },
      },
      MERGE_PATCH,
    );
  } catch (err) {
    const line = statusCode(err) === 409 ? `ReplicationSource \`${target}\` changed meanwhile; nothing was set. Try again.` : kubeErrorLine(err, `set spec.restic.unlock on ${target}`, kube);
    audit.record({ actor: requester, action: VOLSYNC_UNLOCK_AUDIT, target, channel: input.channel, confirmedBy, outcome: 'failed', detail: line });
    throw new UserError(line);
  }
  const ran = [`kubectl patch replicationsource ${name} -n ${namespace} --type merge -p '{"spec":{"restic":{"unlock":"${token}"},"trigger":{"manual":"${token}"}}}'`];
  audit.record({ actor: requester, action: VOLSYNC_UNLOCK_AUDIT, target, channel: input.channel, confirmedBy, ran, outcome: 'confirmed' });

  const started = Date.now();
  void (async () => {
    let result: Reply;
    try {
      const o = await followVolSyncUnlock(kube, namespace, name, token, rs, follow);
      const extra = o.outcome === 'unlocked' ? await resumeSchedule(kube, o.rs, token) : '';
      result = volsyncOutcomeReply(o, target, token, Date.now() - started, extra);
      audit.record({ actor: requester, action: VOLSYNC_UNLOCK_AUDIT, target, channel: input.channel, confirmedBy, ran, outcome: o.outcome === 'unlocked' ? 'succeeded' : 'failed', detail: o.outcome });
    } catch (err) {
      log.error({ err, target }, 'following a VolSync unlock failed');
      result = errorReply(`I lost track of the VolSync unlock of \`${target}\`; \`/backup status ${namespace} ${name}\` shows the source.`);
    }
    await ctx.notify(result).catch((err: unknown) => log.error({ err, target }, 'could not post the result of a VolSync unlock'));
  })();

  return {
    thread: [
      {
        text: `VolSync unlock of ${target} requested (token ${token}).`,
        blocks: [
          { type: 'section', text: `:arrows_counterclockwise: ${who(input.actor)} asked VolSync to unlock \`${target}\`: \`spec.restic.unlock\` and \`spec.trigger.manual\` are \`${token}\`. I'll post here when \`status.restic.lastUnlocked\` shows it (up to ${Math.round(follow.timeoutMs / 60_000)} minutes).` },
        ],
        visibility: 'channel',
        tone: 'info',
      },
    ],
  };
}
