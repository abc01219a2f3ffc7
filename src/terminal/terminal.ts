/**
 * The local terminal transport: type `/backup status` at a prompt, against the current kube
 * context. When standard input is not a terminal it runs each line, prints the replies as plain
 * text and ends at the end of input, so `echo "/backup status" | npm start` works in scripts.
 * A confirmation is asked at the prompt; with piped input it is refused, never assumed.
 */
import { createInterface } from 'node:readline/promises';
import { userInfo } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import type { CommandSet } from '../command/dispatch.ts';
import { dispatch, dispatchAction } from '../command/dispatch.ts';
import { terminalZone } from './local-zone.ts';
import { escapeMrkdwn } from '../reply.ts';
import type { Actor, CommandContext, Services } from '../command/context.ts';
import type { Reply } from '../reply.ts';
import { renderText } from './render-text.ts';

export interface TerminalOptions {
  commands: CommandSet;
  services: Services;
  input: Readable;
  output: Writable;
  interactive: boolean;
}

function localActor(): Actor {
  let name = 'terminal';
  try {
    name = userInfo().username || name;
  } catch {
    // No passwd entry (some containers): keep the generic name.
  }
  // Replies name the person plainly, in the machine's zone; a confirmation is a prompt, not a button.
  return { id: `terminal:${name}`, name, via: 'terminal', buttons: false, mention: (person = { id: name, name }) => escapeMrkdwn(person.name ?? person.id), timeZone: terminalZone };
}

export async function runTerminal(opts: TerminalOptions): Promise<void> {
  const { commands, services, output, interactive } = opts;
  const actor = localActor();
  const print = (text: string) => {
    output.write(`${text}\n`);
  };
  const ctx: CommandContext = {
    actor,
    services,
    now: () => new Date(),
    notify: async (r: Reply) => print(renderText(r)),
  };
  const rl = createInterface({ input: opts.input, output: interactive ? output : undefined, terminal: interactive });
  const families = commands.families.map((f) => f.command);

  const handle = async (line: string, ask: (q: string) => Promise<string>) => {
    const trimmed = line.trim();
    if (!trimmed || trimmed.startsWith('#')) return;
    const [command = '', ...rest] = trimmed.split(/\s+/);
    if (!families.includes(command)) {
      print(`Commands start with ${families.join(' or ')}. Try \`${families[0]} help\`.`);
      return;
    }
    const r = await dispatch(commands, command, rest.join(' '), ctx);
    print(renderText(r));
    for (const part of r.followUps ?? []) print(renderText(part));
    if (!r.confirmation) return;
    if (!interactive) {
      print('Refused: this needs a confirmation typed at an interactive terminal, and standard input is not one. Nothing was done.');
      services.audit.record({ actor, action: trimmed.slice(0, 200), target: 'terminal', outcome: 'refused', detail: 'confirmation required, input not interactive' });
      return;
    }
    const answer = (await ask(`Type "yes" to ${r.confirmation.confirmLabel.toLowerCase()}, anything else cancels: `)).trim().toLowerCase();
    const actionId = answer === 'yes' ? r.confirmation.actionId : r.confirmation.cancelActionId;
    if (!actionId) {
      print('Cancelled. Nothing was done.');
      return;
    }
    const result = await dispatchAction(commands, { actionId, value: r.confirmation.token, actor }, ctx);
    for (const part of [result.replace, ...(result.thread ?? []), result.ephemeral]) {
      if (part) print(renderText(part));
    }
  };

  if (!interactive) {
    // Lines are processed strictly one after another; readline buffers what arrives meanwhile.
    for await (const line of rl) await handle(line, async () => '');
    rl.close();
    return;
  }

  print(`backup-bot terminal. ${families.map((f) => `${f} help`).join(', ')}; "exit" or Ctrl-D to leave.`);
  let closed = false;
  rl.on('close', () => {
    closed = true;
  });
  while (!closed) {
    let line: string;
    try {
      line = await rl.question('backup-bot> ');
    } catch {
      break;
    }
    if (/^(exit|quit)$/i.test(line.trim())) break;
    try {
      await handle(line, (q) => rl.question(q));
    } catch (err) {
      services.log.error({ err }, 'terminal command failed');
      print('That failed unexpectedly; the details are in the log. The prompt is still yours.');
    }
  }
  rl.close();
}
