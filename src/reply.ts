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

/** Escape user-supplied text for mrkdwn so it cannot inject mentions or links. */
export function escapeMrkdwn(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
