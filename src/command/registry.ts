/**
 * The command framework: each verb is declared once (usage, arguments, flags, whether it mutates),
 * and parsing, validation, help and access checks all derive from that declaration. Handlers never
 * see unvalidated input and never know which transport called them.
 */
import type { Reply } from '../reply.ts';
import { errorReply } from '../reply.ts';
import { checkName } from './names.ts';
import type { ActionHandler, CommandContext } from './context.ts';

export interface ArgSpec {
  name: string;
  /** `namespace` and `name` are validated as Kubernetes names before the handler runs. */
  kind: 'namespace' | 'name';
  optional?: boolean;
}

export interface FlagSpec {
  name: string;
  help: string;
}

export interface ParsedCommand {
  command: string;
  verb: string;
  args: Record<string, string | undefined>;
  flags: Set<string>;
}

export interface VerbSpec {
  verb: string;
  summary: string;
  args: ArgSpec[];
  flags?: FlagSpec[];
  /** Mutating verbs are for operators only; the framework checks before the handler runs. */
  mutating?: boolean;
  /** What the verb needs; without it the framework answers that it is not configured. */
  needs?: Needs;
  /** A command button (src/command/command-button.ts) may run it; the same checks apply as when typed. */
  button?: boolean;
  /** Absent while the verb is declared but not built yet. */
  handler?: (cmd: ParsedCommand, ctx: CommandContext) => Promise<Reply>;
}

/**
 * A verb on one Kubernetes object, named `<namespace> <nameArg>`: both arguments are required and
 * validated as Kubernetes names before `run` sees them, and acting on an object needs the cluster.
 * `nameArg` is what usage and help call the object (`<name>`, `<app>`).
 */
export function objectVerb(
  spec: Omit<VerbSpec, 'args' | 'needs' | 'handler'> & {
    nameArg: string;
    run: (ctx: CommandContext, namespace: string, name: string, cmd: ParsedCommand) => Promise<Reply>;
  },
): VerbSpec {
  const { nameArg, run, ...declared } = spec;
  return {
    ...declared,
    args: [{ name: 'namespace', kind: 'namespace' }, { name: nameArg, kind: 'name' }],
    needs: { cluster: true },
    handler: (cmd, ctx) => run(ctx, cmd.args['namespace']!, cmd.args[nameArg]!, cmd),
  };
}

export interface Needs {
  /** A Kubernetes cluster (services.kube). */
  cluster?: boolean;
}

/**
 * A button, declared like a verb: the framework does the operator check (and audits a refusal),
 * the needs check, and records the approval or cancellation of the confirmation it answers,
 * before the handler runs.
 */
export interface ActionSpec {
  /** The button's action id. */
  id: string;
  /** The action name audit records carry; also the action of the confirmation it answers. */
  action: string;
  /** For operators only. */
  mutating?: boolean;
  /** The target a denied click's audit record names (default: `confirmation`). */
  deniedTarget?: string;
  needs?: Needs;
  /** The button approves or cancels a confirmation of `action`. */
  answers?: 'approve' | 'cancel';
  /** Where the button value keeps the confirmation's id and digest (default: the value is the id). */
  confirmationOf?: (value: string) => { id: string; digest?: string };
  handler: ActionHandler;
}

export interface CommandFamily {
  command: string;
  summary: string;
  verbs: VerbSpec[];
  /** The buttons of this family's replies. */
  actions?: ActionSpec[];
}

export function usageLine(family: CommandFamily, v: VerbSpec): string {
  const args = v.args.map((a) => (a.optional ? `[${a.name}]` : `<${a.name}>`));
  const flags = (v.flags ?? []).map((f) => `[--${f.name}]`);
  return [family.command, v.verb, ...args, ...flags].join(' ');
}

export function helpReply(family: CommandFamily, only?: VerbSpec): Reply {
  const verbs = only ? [only] : family.verbs;
  const lines: string[] = [];
  for (const v of verbs) {
    lines.push(`\`${usageLine(family, v)}\`\n    ${v.summary}${v.mutating ? ' _(operators only)_' : ''}`);
    for (const f of v.flags ?? []) lines.push(`    \`--${f.name}\`: ${f.help}`);
  }
  const title = only ? `${family.command} ${only.verb}` : `${family.command}: ${family.summary}`;
  return {
    text: `${title}\n${lines.join('\n')}`,
    blocks: [
      { type: 'header', text: title },
      { type: 'section', text: lines.join('\n') },
      ...(only ? [] : [{ type: 'context' as const, elements: [`\`${family.command} help\` shows this list.`] }]),
    ],
    visibility: 'ephemeral',
    tone: 'info',
  };
}

function usageError(family: CommandFamily, line: string, v?: VerbSpec): Reply {
  const usage = v ? `Usage: \`${usageLine(family, v)}\`` : `Try \`${family.command} help\`.`;
  const r = errorReply(`${line} ${usage}`);
  return r;
}

/** Split on whitespace; Slack sends the text after the command as one string. */
export function tokenize(text: string): string[] {
  return text.trim().split(/\s+/).filter((t) => t.length > 0);
}

export type ParseResult = { ok: true; verb: VerbSpec; parsed: ParsedCommand } | { ok: false; reply: Reply };

export function parse(family: CommandFamily, text: string): ParseResult {
  const tokens = tokenize(text);
  const verbName = (tokens.shift() ?? 'help').toLowerCase();
  if (verbName === 'help' || verbName === '--help' || verbName === '-h') {
    const about = tokens[0] && family.verbs.find((v) => v.verb === tokens[0]?.toLowerCase());
    return { ok: false, reply: helpReply(family, about || undefined) };
  }
  const verb = family.verbs.find((v) => v.verb === verbName);
  if (!verb) {
    const shown = verbName.length > 30 ? `${verbName.slice(0, 27)}...` : verbName;
    const r = helpReply(family);
    r.text = `Unknown command \`${family.command} ${shown}\`.\n${r.text}`;
    r.blocks.unshift({ type: 'section', text: `:warning: Unknown command \`${family.command} ${shown}\`. Here is what I know:` });
    r.tone = 'error';
    return { ok: false, reply: r };
  }
  const flags = new Set<string>();
  const positional: string[] = [];
  for (const t of tokens) {
    if (t === '--help' || t === '-h') return { ok: false, reply: helpReply(family, verb) };
    if (t.startsWith('--')) {
      const name = t.slice(2);
      if (!(verb.flags ?? []).some((f) => f.name === name)) {
        return { ok: false, reply: usageError(family, `Unknown flag \`${t.slice(0, 40)}\`.`, verb) };
      }
      flags.add(name);
    } else {
      positional.push(t);
    }
  }
  const required = verb.args.filter((a) => !a.optional).length;
  if (positional.length < required) {
    const missing = verb.args[positional.length];
    return { ok: false, reply: usageError(family, `Missing <${missing?.name ?? 'argument'}>.`, verb) };
  }
  if (positional.length > verb.args.length) {
    return { ok: false, reply: usageError(family, 'Too many arguments.', verb) };
  }
  const args: Record<string, string | undefined> = {};
  for (const [i, spec] of verb.args.entries()) {
    const value = positional[i];
    if (value === undefined) continue;
    const problem = checkName(spec.kind, value, spec.name);
    if (problem) return { ok: false, reply: usageError(family, problem, verb) };
    args[spec.name] = value;
  }
  return { ok: true, verb, parsed: { command: family.command, verb: verb.verb, args, flags } };
}
