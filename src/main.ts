/**
 * Entry point: `npm start`. With no Slack tokens it starts the terminal mode against the current
 * kube context; with SLACK_APP_TOKEN Socket Mode; with SLACK_SIGNING_SECRET HTTP mode.
 */
import { ConfigError, loadConfig } from './config.ts';
import { startBot } from './app.ts';
import { scrub } from './log.ts';

async function main(): Promise<number> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`backup-bot cannot start: ${scrub(err.message)}\n`);
      return 2;
    }
    throw err;
  }
  let bot;
  try {
    bot = await startBot(config);
  } catch (err) {
    const e = err as Error & { code?: string; data?: { error?: string } };
    const detail = e.data?.error ?? e.code ?? e.message;
    process.stderr.write(`backup-bot cannot start: ${scrub(String(detail))}. Check the Slack tokens, SLACK_API_URL and PORT.\n`);
    return 1;
  }
  const { log } = bot;
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    bot.stop().finally(() => process.exit(0));
    // Never hang on shutdown: stop() posts accepted alerts for up to the grace period, and
    // Kubernetes would SIGKILL us soon after it anyway.
    setTimeout(() => process.exit(0), bot.config.env.shutdownGraceSeconds * 1000 + 5_000).unref();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled rejection'));
  await bot.done;
  return 0;
}

// main() returns only when start-up failed or the terminal's input ended (Slack modes run until a
// signal); leftover timers of the SDKs must not keep the process alive then.
process.exit(await main());
