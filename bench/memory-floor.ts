/**
 * The floor for bench/memory.ts: a process that only imports the bot's runtime dependencies
 * (package.json "dependencies") and idles. After `settle` ms it runs gc() (when exposed) and
 * prints process.memoryUsage() as one JSON line, then exits.
 *
 *   node --expose-gc bench/memory-floor.ts <settle-ms>
 */
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { dependencies: Record<string, string> };
const loaded: unknown[] = [];
for (const name of Object.keys(pkg.dependencies)) loaded.push(await import(name));
await new Promise((r) => setTimeout(r, Number(process.argv[2] ?? 10_000)));
const gc = (globalThis as { gc?: () => void }).gc;
gc?.();
gc?.();
const m = process.memoryUsage();
process.stdout.write(`${JSON.stringify({ modules: loaded.length, rss: m.rss, heapUsed: m.heapUsed })}\n`);
process.exit(0);
