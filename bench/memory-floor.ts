/**
 * The floor for bench/memory.ts: a process that only imports the runtime dependencies the bot
 * loads in the Slack modes (package.json "dependencies", less the ones it loads only in the
 * terminal mode: pino-pretty, see src/log.ts) and idles. After `settle` ms it runs gc() (when
 * exposed) and prints process.memoryUsage() as one JSON line, then exits.
 *
 *   node --expose-gc bench/memory-floor.ts <settle-ms>
 */
import { readFileSync } from 'node:fs';

/** Dependencies the bot imports only in the terminal mode, never in the HTTP mode measured here. */
export const TERMINAL_ONLY = ['pino-pretty'];

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { dependencies: Record<string, string> };
const names = Object.keys(pkg.dependencies).filter((n) => !TERMINAL_ONLY.includes(n));
const loaded: unknown[] = [];
for (const name of names) loaded.push(await import(name));
await new Promise((r) => setTimeout(r, Number(process.argv[2] ?? 10_000)));
const gc = (globalThis as { gc?: () => void }).gc;
gc?.();
gc?.();
const m = process.memoryUsage();
process.stdout.write(`${JSON.stringify({ modules: loaded.length, names, rss: m.rss, heapUsed: m.heapUsed })}\n`);
process.exit(0);
