/**
 * Turns a command line into a reply: parse and validate against the declarations, check access
 * for mutating verbs, run the handler, and turn any failure into one line for the user (the stack
 * goes to the log only).
 */
import type { Reply } from '../reply.ts';
import { errorReply, reply } from '../reply.ts';
import type { ActionHandler, ActionInput, ActionResult, CommandContext } from './context.ts';
import type { CommandFamily } from './registry.ts';
import { parse, usageLine } from './registry.ts';
import { userMessage } from '../errors.ts';

export interface CommandSet {
  families: CommandFamily[];
  actions: Map<string, ActionHandler>;
}

export function commandSet(families: CommandFamily[], actions: Record<string, ActionHandler> = {}): CommandSet {
  return { families, actions: new Map(Object.entries(actions)) };
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
  try {
    return await verb.handler(parsed, ctx);
  } catch (err) {
    log.error({ err, command: family.command, verb: verb.verb }, 'command failed');
    return errorReply(userMessage(err, `\`${family.command} ${verb.verb}\` failed`));
  }
}

export async function dispatchAction(set: CommandSet, input: ActionInput, ctx: CommandContext): Promise<ActionResult> {
  const handler = set.actions.get(input.actionId);
  if (!handler) {
    return { ephemeral: errorReply('That button belongs to an older version of backup-bot. Run the command again.') };
  }
  try {
    return await handler(input, ctx);
  } catch (err) {
    ctx.services.log.error({ err, actionId: input.actionId }, 'action failed');
    return { ephemeral: errorReply(userMessage(err, 'That action failed')) };
  }
}
