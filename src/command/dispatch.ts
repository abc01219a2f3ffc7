/**
 * Turns a command line into a reply: parse and validate against the declarations, check access
 * for mutating verbs, run the handler, and turn any failure into one line for the user (the stack
 * goes to the log only). Buttons go the same way: the declaration says what the framework checks
 * (operator, cluster, the confirmation answered) before the handler runs.
 */
import type { Reply } from '../reply.ts';
import { errorReply, reply } from '../reply.ts';
import type { ActionInput, ActionResult, Actor, Answer, CommandContext } from './context.ts';
import type { ActionSpec, CommandFamily, Needs } from './registry.ts';
import { parse, usageLine } from './registry.ts';
import { NO_CLUSTER, UserError, userMessage } from '../errors.ts';
import type { ConfirmationRecord } from '../confirm/confirmations.ts';
import { commandButtonAction } from './command-button.ts';

export interface CommandSet {
  families: CommandFamily[];
  actions: Map<string, ActionSpec>;
}

/** The families' verbs and buttons, plus buttons that belong to no command (the alert buttons). */
export function commandSet(families: CommandFamily[], actions: ActionSpec[] = []): CommandSet {
  const map = new Map<string, ActionSpec>();
  const set: CommandSet = { families, actions: map };
  const all = [...families.flatMap((f) => f.actions ?? []), ...actions, commandButtonAction(() => set)];
  for (const a of all) {
    if (map.has(a.id)) throw new Error(`two buttons declare the action id ${a.id}`);
    map.set(a.id, a);
  }
  return set;
}

/** Why the needs are not met, or undefined. */
function unmet(needs: Needs | undefined, ctx: CommandContext): string | undefined {
  if (needs?.cluster && !ctx.services.kube) return NO_CLUSTER;
  return undefined;
}

export async function dispatch(set: CommandSet, command: string, text: string, ctx: CommandContext): Promise<Reply> {
  const family = set.families.find((f) => f.command === command);
  if (!family) {
    return errorReply(`I don't know \`${command.slice(0, 30)}\`. Try ${set.families.map((f) => `\`${f.command} help\``).join(' or ')}.`);
  }
  const result = parse(family, text);
  if (!result.ok) return result.reply;
  const { verb, parsed } = result;
  const { access, audit, log } = ctx.services;
  if (verb.mutating) {
    const denied = await access.checkOperator(ctx.actor);
    if (denied) {
      audit.record({ actor: ctx.actor, action: `${family.command} ${verb.verb}`, target: text.trim(), channel: ctx.channel, outcome: 'denied' });
      return errorReply(denied);
    }
  }
  if (!verb.handler) {
    return reply(`\`${family.command} ${verb.verb}\` is not available yet in this version of backup-bot.`, [
      { type: 'section', text: `\`${family.command} ${verb.verb}\` is not available yet in this version of backup-bot.` },
      { type: 'context', elements: [`Usage when it lands: \`${usageLine(family, verb)}\`: ${verb.summary}`] },
    ], { tone: 'info' });
  }
  const missing = unmet(verb.needs, ctx);
  if (missing) return errorReply(missing);
  try {
    return await verb.handler(parsed, ctx);
  } catch (err) {
    // A UserError is an answer, not a failure: the log keeps error level (and stack traces) for what really broke.
    if (err instanceof UserError) return errorReply(err.message);
    log.error({ err, command: family.command, verb: verb.verb }, 'command failed');
    return errorReply(userMessage(err, `\`${family.command} ${verb.verb}\` failed`));
  }
}

function requesterOf(rec: ConfirmationRecord): Actor {
  return { id: rec.requester.id, via: rec.requester.via, ...(rec.requester.name ? { name: rec.requester.name } : {}) };
}

/** Approves or cancels the confirmation the button answers; a refused answer is audited and thrown. */
async function answer(spec: ActionSpec, input: ActionInput, ctx: CommandContext): Promise<Answer | undefined> {
  if (!spec.answers) return undefined;
  const { confirmations, audit } = ctx.services;
  const { id, digest } = (spec.confirmationOf ?? ((value: string): { id: string; digest?: string } => ({ id: value })))(input.value);
  if (spec.answers === 'cancel') {
    const record = await confirmations.cancel(id, input.actor);
    return { status: 'cancelled', record, requester: requesterOf(record) };
  }
  try {
    const approval = await confirmations.approve(id, input.actor, { action: spec.action, ...(digest !== undefined ? { digest } : {}) });
    return { ...approval, requester: requesterOf(approval.record) };
  } catch (err) {
    if (err instanceof UserError) {
      audit.record({ actor: input.actor, action: spec.action, target: 'confirmation', channel: input.channel, outcome: err.code === 'expired' ? 'expired' : 'refused', detail: err.message.slice(0, 300) });
    }
    throw err;
  }
}

export async function dispatchAction(set: CommandSet, input: ActionInput, ctx: CommandContext): Promise<ActionResult> {
  const spec = set.actions.get(input.actionId);
  if (!spec) {
    return { ephemeral: errorReply('That button belongs to an older version of backup-bot. Run the command again.') };
  }
  const { access, audit, log } = ctx.services;
  try {
    if (spec.mutating) {
      const denied = await access.checkOperator(input.actor);
      if (denied) {
        audit.record({ actor: input.actor, action: spec.action, target: spec.deniedTarget ?? 'confirmation', channel: input.channel, outcome: 'denied' });
        return { ephemeral: errorReply(denied) };
      }
    }
    const missing = unmet(spec.needs, ctx);
    if (missing) return { ephemeral: errorReply(missing) };
    return await spec.handler(input, ctx, await answer(spec, input, ctx));
  } catch (err) {
    if (err instanceof UserError) return { ephemeral: errorReply(err.message) };
    log.error({ err, actionId: input.actionId }, 'action failed');
    return { ephemeral: errorReply(userMessage(err, 'That action failed')) };
  }
}
