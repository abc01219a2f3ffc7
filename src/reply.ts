/**
 * The transport-neutral reply a command or action returns. Handlers build these; the Slack
 * transport renders them as Block Kit (src/slack/render-blocks.ts), the terminal as plain text
 * (src/terminal/render-text.ts). Text uses a small subset of Slack mrkdwn: *bold*, `code`,
 * <url|label> links and <#C123> / <@U123> / <!subteam^S123> mentions.
 */
export interface Button {
  text: string;
  /** `bb:<family>:<action>`: routes the click back to the registered action handler. */
  actionId: string;
  /** Opaque to Slack: a confirmation token or the target of the action. */
  value: string;
  style?: 'primary' | 'danger';
  /** Slack's own confirm dialog, shown before the click is sent. */
  confirm?: { title: string; text: string; confirm: string; deny: string };
}

export type Block =
  | { type: 'header'; text: string }
  | { type: 'section'; text: string; fields?: string[] }
  | { type: 'fields'; fields: string[] }
  | { type: 'context'; elements: string[] }
  | { type: 'code'; text: string }
  | { type: 'divider' }
  | { type: 'actions'; buttons: Button[] };

export type Tone = 'ok' | 'warn' | 'error' | 'info';

/**
 * A question only an authorised person may answer. Slack shows it as buttons; the terminal asks
 * at the prompt (and refuses when standard input is not a terminal: never assumed confirmed).
 */
export interface ConfirmationRequest {
  /** The action handler that carries it out, `bb:<family>:<action>`. */
  actionId: string;
  /** Opaque token handed back to that handler; binds the answer to this request. */
  token: string;
  question: string;
  confirmLabel: string;
  cancelActionId?: string;
}

export interface Reply {
  /** Plain summary: the notification text in Slack, the first line in the terminal. */
  text: string;
  blocks: Block[];
  /** `ephemeral`: only the person who asked sees it. `channel`: a message others can see and thread under. */
  visibility: 'ephemeral' | 'channel';
  tone?: Tone;
  confirmation?: ConfirmationRequest;
  /**
   * Sent after this reply, in its thread when it is a channel message (the pages of a long
   * listing): one message per part, so no message is a wall. The terminal prints them after it.
   */
  followUps?: Reply[];
}

export function reply(text: string, blocks: Block[] = [], opts: Partial<Omit<Reply, 'text' | 'blocks'>> = {}): Reply {
  return { text, blocks, visibility: opts.visibility ?? 'ephemeral', ...opts };
}

/** One line that says what went wrong and what to do next. */
export function errorReply(line: string): Reply {
  return { text: line, blocks: [{ type: 'section', text: `:warning: ${line}` }], visibility: 'ephemeral', tone: 'error' };
}

export function infoReply(line: string): Reply {
  return { text: line, blocks: [{ type: 'section', text: line }], visibility: 'ephemeral', tone: 'info' };
}

// Text from outside the bot (restic's stderr, lock hostnames, alert labels and annotations, pod
// logs, CR specs and statuses, URLs) reaches mrkdwn only through these helpers: Slack reads
// `<!channel>`, `<@U…>` and `<url|label>` as mentions and links, so & < > become entities; a
// backtick must not close a code span; and a 10 KB value must not crowd out the message.

/** Escape outside text for mrkdwn so it cannot inject mentions or links (& < > as Slack's entities). */
export function escapeMrkdwn(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** At most `max` characters, with a visible "…" when cut. */
export function clipText(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, Math.max(0, max - 1))}…` : s;
}

/**
 * Outside text on one line of mrkdwn: whitespace collapsed, at most `max` characters, escaped, and
 * backticks made quotes (a lone one would pair with the bot's next code span).
 */
export function untrustedLine(s: string, max = 300): string {
  return escapeMrkdwn(clipText(s.replace(/\s+/g, ' ').replace(/`/g, "'").trim(), max));
}

/** Outside text as inline code: one line, capped, and a backtick in it cannot close the span. */
export function inlineCode(s: string, max = 200): string {
  return `\`${escapeMrkdwn(clipText(s.replace(/\s+/g, ' ').replace(/`/g, "'"), max))}\``;
}

/** Outside text (a log tail) for a code block: escaped, at most `max` characters, keeping the end. */
export function codeBlockText(s: string, max = 2500): string {
  return escapeMrkdwn(s.length > max ? `…${s.slice(s.length - max + 1)}` : s);
}

/**
 * A link with the bot's own label to an outside URL, or undefined when it is not a plain http(s)
 * URL: `|` and `>` in it would end the link early and let the rest be read as mrkdwn.
 */
export function safeLink(url: string, label: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if ((parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || parsed.href.length > 1000) return undefined;
  const href = parsed.href.replace(/\|/g, '%7C').replace(/</g, '%3C').replace(/>/g, '%3E').replace(/&/g, '&amp;');
  return `<${href}|${escapeMrkdwn(label)}>`;
}
