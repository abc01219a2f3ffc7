/**
 * A link to a Slack thread, for a reply that points at another conversation: `/backup incidents`
 * to each incident's thread, an alert thread to the incident about the same source and back.
 * Slack's permalink when it answers, else the channel, which is still a way there.
 */
import { safeLink } from '../reply.ts';

/** The one Slack call a link needs (a WebClient has it). */
export interface PermalinkClient {
  chat: { getPermalink(a: { channel: string; message_ts: string }): Promise<{ permalink?: string | undefined }> };
}

export async function threadLink(client: PermalinkClient | undefined, at: { channel: string; ts: string }, label = 'thread'): Promise<string> {
  if (client) {
    try {
      const res = await client.chat.getPermalink({ channel: at.channel, message_ts: at.ts });
      const link = res.permalink ? safeLink(res.permalink, label) : undefined;
      if (link) return link;
    } catch {
      // The channel name is still a way there.
    }
  }
  return `${label} in <#${at.channel}>`;
}
