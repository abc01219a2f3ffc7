/**
 * A button that runs a command exactly as if the person who clicked it had typed it: the same
 * parse and name validation, operator check, audit, confirmations and second operator (it goes
 * through dispatch()). The bot puts such buttons under its own messages, e.g. an incident's
 * "Unlock stale locks" (`/restic unlock <ns> <app>`) and "Remove all locks…" (`… --remove-all`,
 * which only shows the evidence and asks for the confirmation). Only verbs declared with
 * `button: true` can be run this way, so a button value can never reach any other verb.
 */
import type { Button } from '../reply.ts';
import { errorReply } from '../reply.ts';
import type { ActionResult } from './context.ts';
import type { ActionSpec } from './registry.ts';
import { parse, tokenize } from './registry.ts';
import type { CommandSet } from './dispatch.ts';
import { dispatch } from './dispatch.ts';

export const COMMAND_BUTTON_ACTION = 'bb:command';
const AUDIT_ACTION = 'command button';
/** Slack's limit on a button value. */
const MAX_VALUE = 2000;

/** A button that runs `command line` (e.g. `/restic`, `unlock media plex`) for whoever clicks it. */
export function commandButton(label: string, command: string, line: string, opts: Pick<Button, 'style' | 'confirm'> = {}): Button {
  const value = `${command} ${tokenize(line).join(' ')}`;
  if (value.length > MAX_VALUE) throw new Error(`a command button's value is longer than Slack allows (${value.length} > ${MAX_VALUE})`);
  return { text: label, actionId: COMMAND_BUTTON_ACTION, value, ...opts };
}

/** The action behind every command button; `set` is the command set it belongs to. */
export function commandButtonAction(set: () => CommandSet): ActionSpec {
  return {
    id: COMMAND_BUTTON_ACTION,
    action: AUDIT_ACTION,
    // Not mutating itself: the verb it runs is checked (operator, audit) by dispatch() as a typed command is.
    handler: async (input, ctx): Promise<ActionResult> => {
      const [command = '', ...rest] = tokenize(input.value);
      const text = rest.join(' ');
      const family = set().families.find((f) => f.command === command);
      const parsed = family ? parse(family, text) : undefined;
      if (!family || !parsed?.ok || !parsed.verb.button) {
        ctx.services.audit.record({ actor: input.actor, action: AUDIT_ACTION, target: input.value.slice(0, 200), channel: input.channel, outcome: 'refused', detail: 'not a command a button may run' });
        return { ephemeral: errorReply('That button does not run a command I can run from a button. Nothing was done; type the command instead.') };
      }
      const r = await dispatch(set(), command, text, ctx);
      // What others should see (an unlock's result, a confirmation a second operator answers) goes into the message's thread.
      return r.visibility === 'channel' ? { thread: [r, ...(r.followUps ?? [])] } : { ephemeral: r };
    },
  };
}
