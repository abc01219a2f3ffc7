/**
 * Preloaded into the processes bench/memory.ts measures (with --expose-gc): SIGUSR2 runs a full
 * garbage collection, so the bot's /metrics and the floor's process.memoryUsage() are read after
 * the same gc(). Not part of the bot.
 */
const gc = (globalThis as { gc?: () => void }).gc;
if (gc) process.on('SIGUSR2', () => { gc(); gc(); });
