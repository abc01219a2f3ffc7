/**
 * The benches' command-line flags, parsed one way: `--name value` numbers (each with its default),
 * `--name value` strings and `--name` switches, from process.argv (node:util parseArgs, strict: an
 * unknown flag stops the bench). A number flag that is not a number reads as NaN, as Number() has it.
 *
 *   const flags = benchFlags({ numbers: { runs: 5 }, strings: { text: 'status' }, switches: ['direct'] });
 */
import { parseArgs } from 'node:util';

export interface FlagSpec<N extends string, S extends string, B extends string> {
  numbers: Record<N, number>;
  strings?: Record<S, string>;
  switches?: readonly B[];
}

export type Flags<N extends string, S extends string, B extends string> = Record<N, number> & Record<S, string> & Record<B, boolean>;

export function benchFlags<N extends string, S extends string = never, B extends string = never>(spec: FlagSpec<N, S, B>, argv: string[] = process.argv.slice(2)): Flags<N, S, B> {
  const options: Record<string, { type: 'string'; default: string } | { type: 'boolean'; default: boolean }> = {};
  for (const [name, value] of Object.entries<number>(spec.numbers)) options[name] = { type: 'string', default: String(value) };
  for (const [name, value] of Object.entries<string>(spec.strings ?? ({} as Record<S, string>))) options[name] = { type: 'string', default: value };
  for (const name of spec.switches ?? []) options[name] = { type: 'boolean', default: false };
  const { values } = parseArgs({ args: argv, options });
  const flags: Record<string, number | string | boolean> = {};
  for (const name of Object.keys(spec.numbers)) flags[name] = Number(values[name]);
  for (const name of Object.keys(spec.strings ?? {})) flags[name] = values[name] as string;
  for (const name of spec.switches ?? []) flags[name] = values[name] as boolean;
  return flags as Flags<N, S, B>;
}
