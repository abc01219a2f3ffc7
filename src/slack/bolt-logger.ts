/**
 * Bolt and the Slack SDK log through pino, so their lines get the same redaction as ours. At debug
 * level they write every Socket Mode envelope and request body raw; the response_url in them is a
 * capability, so it is scrubbed here, before pino sees the text, as well as on the way out.
 */
import { LogLevel } from '@slack/bolt';
import type { Logger as SlackLogger } from '@slack/bolt';
import type { Logger } from 'pino';
import { scrubResponseUrls } from '../log.ts';

export function slackLogger(log: Logger): SlackLogger {
  const child = log.child({ component: 'slack-sdk' });
  let level = LogLevel.INFO;
  const text = (msg: unknown[]) => scrubResponseUrls(msg.map((m) => (typeof m === 'string' ? m : m instanceof Error ? m.message : JSON.stringify(m))).join(' '));
  return {
    debug: (...msg: unknown[]) => child.debug(text(msg)),
    info: (...msg: unknown[]) => child.info(text(msg)),
    warn: (...msg: unknown[]) => child.warn(text(msg)),
    error: (...msg: unknown[]) => child.error(text(msg)),
    setLevel: (l: LogLevel) => { level = l; },
    getLevel: () => level,
    setName: () => {},
  };
}
