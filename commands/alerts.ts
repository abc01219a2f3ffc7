/**
 * The silence buttons' handlers: an operator's click creates an Alertmanager silence scoped to the
 * alert's own labels (equality matchers), made by that Slack user, whose comment links the
 * thread; the silence and an Unsilence button go into the thread. Late, forged or non-operator
 * clicks are refused, and every outcome leaves an audit record.
 */
import { createHash } from 'node:crypto';
import type { ActionInput, ActionResult, CommandContext } from '../src/command/context.ts';
import { mention } from '../src/command/context.ts';
import type { ActionSpec } from '../src/command/registry.ts';
import type { Reply } from '../src/reply.ts';
import { errorReply, escapeMrkdwn, untrustedLine } from '../src/reply.ts';
import { AlertmanagerError } from '../src/alerts/silences.ts';
import type { SilencesClient } from '../src/alerts/silences.ts';
import type { ButtonSigner, SilenceValue, UnsilenceValue } from '../src/alerts/button-values.ts';
import { epochSeconds, SILENCE_ACTION, UNSILENCE_ACTION } from '../src/alerts/button-values.ts';
import { code, timeIn } from '../src/alerts/format.ts';

const DURATIONS: Record<'1h' | '4h', { ms: number; label: string }> = {
  '1h': { ms: 3600_000, label: '1 h' },
  '4h': { ms: 4 * 3600_000, label: '4 h' },
};

/** Marks the bot's silences for one alert scope, so a second click finds the first silence. */
export function silenceMarker(scope: Record<string, string>): string {
  const canonical = Object.keys(scope).sort().map((k) => `${k}=${scope[k]}`).join(',');
  return `[backup-bot:alert:${createHash('sha256').update(canonical).digest('hex').slice(0, 16)}]`;
}

export function scopeText(scope: Record<string, string>): string {
  const where = scope['pod'] ? `${scope['namespace'] ?? '?'}/${scope['pod']}${scope['container'] ? ` (${scope['container']})` : ''}` : Object.entries(scope).map(([k, v]) => `${k}=${v}`).join(', ');
  return scope['alertname'] && scope['pod'] ? `${code(where)} ${untrustedLine(scope['alertname'], 100)}` : code(where);
}

export interface SilenceActionDeps {
  silences: SilencesClient | undefined;
  signer: ButtonSigner;
}

/** The alert buttons: operators only (the framework checks, and audits a refusal). */
export function silenceActions(deps: SilenceActionDeps): ActionSpec[] {
  return [
    { id: SILENCE_ACTION, action: 'alerts silence', mutating: true, deniedTarget: 'alert silence button', handler: (input, ctx) => silence(deps, input, ctx) },
    { id: UNSILENCE_ACTION, action: 'alerts unsilence', mutating: true, deniedTarget: 'alert silence button', handler: (input, ctx) => unsilence(deps, input, ctx) },
  ];
}

interface Checked<T> {
  value?: T;
  refusal?: ActionResult;
}

async function check<T extends SilenceValue | UnsilenceValue>(deps: SilenceActionDeps, input: ActionInput, ctx: CommandContext, action: string, kinds: string[]): Promise<Checked<T>> {
  const { audit } = ctx.services;
  const base = { actor: ctx.actor, action, channel: input.channel };
  const decoded = deps.signer.decode(input.value, ctx.now());
  if (!decoded.ok || !kinds.includes(decoded.value.k)) {
    if (decoded.ok === false && decoded.reason === 'expired') {
      audit.record({ ...base, target: 'alert silence button', outcome: 'expired', detail: `expired at ${decoded.expiredAt?.toISOString()}` });
      return { refusal: { ephemeral: errorReply(`This button expired at ${timeIn(decoded.expiredAt ?? ctx.now(), 'UTC', ctx.now())}. If the alert still fires, use the buttons on its next notification, or silence it in Alertmanager.`) } };
    }
    audit.record({ ...base, target: 'alert silence button', outcome: 'refused', detail: 'button value failed its signature check' });
    return { refusal: { ephemeral: errorReply('That button is not one this bot made (its signature does not match). Use the buttons on the alert\'s own thread.') } };
  }
  if (!deps.silences) {
    audit.record({ ...base, target: scopeText(decoded.value.l), outcome: 'refused', detail: 'ALERTMANAGER_URL not set' });
    return { refusal: { ephemeral: errorReply('Silences need ALERTMANAGER_URL: set it to your Alertmanager\'s address (e.g. http://alertmanager.monitoring:9093) and restart the bot.') } };
  }
  return { value: decoded.value as T };
}

async function threadLink(ctx: CommandContext, input: ActionInput): Promise<string | undefined> {
  const ts = input.threadTs ?? input.messageTs;
  const client = ctx.services.slack?.client;
  if (!client || !input.channel || !ts) return undefined;
  try {
    const res = await client.chat.getPermalink({ channel: input.channel, message_ts: ts });
    return res.permalink;
  } catch (err) {
    ctx.services.log.warn({ err: (err as Error).message }, 'could not get the thread permalink for a silence comment');
    return undefined;
  }
}

async function silence(deps: SilenceActionDeps, input: ActionInput, ctx: CommandContext): Promise<ActionResult> {
  const checked = await check<SilenceValue>(deps, input, ctx, 'alerts silence', ['1h', '4h', 'window']);
  if (!checked.value) return checked.refusal!;
  const v = checked.value;
  const silences = deps.silences!;
  const now = ctx.now();
  const target = scopeText(v.l);
  let endsAt: Date;
  let span: string;
  if (v.k === 'window') {
    endsAt = new Date((v.e ?? 0) * 1000);
    span = `until the ${v.w ?? 'backup'} window ends`;
  } else {
    endsAt = new Date(now.getTime() + DURATIONS[v.k].ms);
    span = `for ${DURATIONS[v.k].label}`;
  }
  if (endsAt <= now) {
    ctx.services.audit.record({ actor: ctx.actor, action: 'alerts silence', target, channel: input.channel, outcome: 'expired' });
    return { ephemeral: errorReply('That window has already ended, so there is nothing to silence until. Use the 1 h or 4 h button.') };
  }
  const marker = silenceMarker(v.l);
  // Whether the silence may exist after a failure: only once it was sent and no answer came back.
  let sent = false;
  try {
    const matchers = silences.matchersForAlert(v.l);
    // A second click (or a colleague's) should not stack silences: reuse one that already lasts long enough.
    const existing = (await silences.findOwned(marker)).find((s) => new Date(s.endsAt).getTime() >= endsAt.getTime() - 60_000);
    if (existing) {
      ctx.services.audit.record({ actor: ctx.actor, action: 'alerts silence', target, channel: input.channel, outcome: 'succeeded', detail: `already silenced by ${existing.id} until ${existing.endsAt}` });
      return { ephemeral: { text: 'Already silenced', blocks: [{ type: 'section', text: `:no_bell: ${target} is already silenced until ${timeIn(new Date(existing.endsAt), 'UTC', now)} by <${silences.silenceUrl(existing.id)}|${existing.id.slice(0, 8)}> (${escapeMrkdwn(existing.createdBy)}).` }], visibility: 'ephemeral', tone: 'info' } };
    }
    const link = await threadLink(ctx, input);
    const name = ctx.actor.name ? `${ctx.actor.name} (Slack ${ctx.actor.id})` : `Slack ${ctx.actor.id}`;
    sent = true;
    const id = await silences.create({
      matchers,
      startsAt: now,
      endsAt,
      createdBy: name,
      comment: `Silenced from Slack by ${name} ${span}${link ? `: ${link}` : ''} ${marker}`,
    });
    ctx.services.audit.record({ actor: ctx.actor, action: 'alerts silence', target, channel: input.channel, ran: [`POST /api/v2/silences ${matchers.map((m) => `${m.name}="${m.value}"`).join(',')}`], outcome: 'succeeded', detail: `silence ${id} until ${endsAt.toISOString()}` });
    return { thread: [silencedReply(deps.signer, { id, url: silences.silenceUrl(id), scope: v.l, endsAt, span, by: mention(ctx.actor), now })] };
  } catch (err) {
    const msg = err instanceof AlertmanagerError ? err.message : (err as Error).message;
    ctx.services.log.error({ err: msg }, 'could not create an Alertmanager silence');
    ctx.services.audit.record({ actor: ctx.actor, action: 'alerts silence', target, channel: input.channel, outcome: 'failed', detail: msg.slice(0, 300) });
    const why = untrustedLine(msg, 300);
    return { ephemeral: errorReply(`Could not silence ${target}: ${why}${/[.!?]$/.test(why) ? '' : '.'} ${afterFailure(err, sent)}`) };
  }
}

/** What a failed click left behind, truthfully, and what to do: the bot does not retry a click on its own. */
function afterFailure(err: unknown, sent: boolean): string {
  const noAnswer = err instanceof AlertmanagerError && (err.kind === 'unreachable' || err.kind === 'timeout');
  if (sent && noAnswer) return 'Alertmanager may have made it without its answer reaching the bot: look for it in Alertmanager\'s silences, and click the button again if it is not there.';
  return noAnswer ? 'Nothing was silenced: click the button again once Alertmanager is back.' : 'Nothing was silenced.';
}

export function silencedReply(signer: ButtonSigner, s: { id: string; url: string; scope: Record<string, string>; endsAt: Date; span: string; by: string; now: Date }): Reply {
  const text = `:no_bell: ${s.by} silenced ${scopeText(s.scope)} ${escapeMrkdwn(s.span)}, until ${timeIn(s.endsAt, 'UTC', s.now)}: silence <${s.url}|${s.id.slice(0, 8)}>`;
  const value: UnsilenceValue = { k: 'unsilence', s: s.id, l: s.scope, x: epochSeconds(s.endsAt) };
  return {
    text: `Silenced ${untrustedLine(`${s.scope['namespace'] ?? ''}/${s.scope['pod'] ?? ''}`, 120)} until ${s.endsAt.toISOString()} (silence ${untrustedLine(s.id, 40)})`,
    blocks: [
      { type: 'section', text },
      { type: 'context', elements: [`Silence ID: \`${s.id}\``] },
      { type: 'actions', buttons: [{ text: 'Unsilence', actionId: UNSILENCE_ACTION, value: signer.encode(value), style: 'danger' }] },
    ],
    visibility: 'channel',
    tone: 'info',
  };
}

async function unsilence(deps: SilenceActionDeps, input: ActionInput, ctx: CommandContext): Promise<ActionResult> {
  const checked = await check<UnsilenceValue>(deps, input, ctx, 'alerts unsilence', ['unsilence']);
  if (!checked.value) return checked.refusal!;
  const v = checked.value;
  const silences = deps.silences!;
  const target = scopeText(v.l);
  try {
    await silences.expire(v.s);
    ctx.services.audit.record({ actor: ctx.actor, action: 'alerts unsilence', target, channel: input.channel, ran: [`DELETE /api/v2/silence/${v.s}`], outcome: 'succeeded', detail: `silence ${v.s} expired` });
    const now = ctx.now();
    return {
      replace: {
        text: `Silence ${v.s} lifted`,
        blocks: [
          { type: 'section', text: `:bell: ${mention(ctx.actor)} lifted the silence of ${target} at ${timeIn(now, 'UTC', now)}: <${silences.silenceUrl(v.s)}|${v.s.slice(0, 8)}> has expired, so the alert notifies again.` },
          { type: 'context', elements: [`Silence ID: \`${v.s}\``] },
        ],
        visibility: 'channel',
        tone: 'info',
      },
    };
  } catch (err) {
    const msg = (err as Error).message;
    ctx.services.audit.record({ actor: ctx.actor, action: 'alerts unsilence', target, channel: input.channel, outcome: 'failed', detail: msg.slice(0, 300) });
    return { ephemeral: errorReply(`Could not lift silence ${untrustedLine(v.s, 40)}: ${untrustedLine(msg, 300)}`) };
  }
}
