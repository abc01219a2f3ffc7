/**
 * One factory for every Slack Web API client the bot makes, so SLACK_API_URL, the retry policy and
 * logging are the same everywhere (including the client Socket Mode uses to open its connection).
 */
import { WebClient } from '@slack/web-api';
import type { WebClientOptions } from '@slack/web-api';
import type { Logger } from 'pino';
import { slackLogger } from './bolt-logger.ts';

/**
 * The SDK's default retries for about 30 minutes; an operator needs an answer or an error within
 * seconds. Four retries with backoff give up after roughly half a minute. Rate-limited calls are
 * not rejected: the client waits for Retry-After and tries again.
 */
export const RETRY_CONFIG = { retries: 4, factor: 2, minTimeout: 500, maxTimeout: 10_000, randomize: true };

export function webClientOptions(opts: { slackApiUrl?: string; log: Logger }): WebClientOptions {
  return {
    slackApiUrl: opts.slackApiUrl,
    retryConfig: RETRY_CONFIG,
    rejectRateLimitedCalls: false,
    timeout: 15_000,
    logger: slackLogger(opts.log),
  };
}

export function createWebClient(token: string | undefined, opts: { slackApiUrl?: string; log: Logger }): WebClient {
  return new WebClient(token, webClientOptions(opts));
}
