/** Posting window messages through the bot's paced Slack poster (one message per second per channel). */
import type { ChannelPoster } from '../slack/poster.ts';
import { renderBlocks } from '../slack/render-blocks.ts';
import type { Reply } from '../reply.ts';
import type { AlertThreads } from './alert-hooks.ts';

export interface SummaryPoster {
  /** Posts a top-level message; resolves with its ts. */
  post(channel: string, r: Reply): Promise<{ ts?: string }>;
}

export function slackSummaryPoster(poster: ChannelPoster): SummaryPoster {
  return {
    async post(channel, r) {
      const res = await poster.post({ channel, ...renderBlocks(r) });
      return { ts: res.ts };
    },
  };
}

/** For when the alerts pipeline does not hand over its own AlertThreads. */
export function slackAlertThreads(poster: ChannelPoster): AlertThreads {
  return {
    async postInThread(channel, threadTs, r) {
      await poster.post({ channel, thread_ts: threadTs, ...renderBlocks(r) });
    },
  };
}
