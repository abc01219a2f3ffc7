/** Bolt and the Slack SDK log through pino, so their lines get the same redaction as ours. */
import { LogLevel } from '@slack/bolt';
import type { Logger as SlackLogger } from '@slack/bolt';
import type { Logger } from 'pino';

export function slackLogger(log: Logger): SlackLogger {
  const child = log.child({ component: 'slack-sdk' });
  let level = LogLevel.INFO;
  const text = (msg: unknown[]) => msg.map((m) => (typeof m === 'string' ? m : m instanceof Error ? m.message : JSON.stringify(m))).join(' ');
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
