import { LIMITS, validateBlocks } from './block-kit-validator.ts';

// The text/blocks/attachments of a message, as chat.postMessage, chat.postEphemeral, chat.update
// and response_url all check them. Form-encoded requests carry blocks and attachments as JSON
// strings (that is what @slack/web-api sends); JSON requests carry them as arrays.

export interface MessageContent {
  text?: string;
  blocks?: unknown[];
  attachments?: unknown[];
}

export type ContentCheck =
  | { ok: true; content: MessageContent }
  | { ok: false; error: string; errors?: string[] };

/** Parses a JSON-string parameter; `undefined` stays undefined, a bad string yields an Error. */
export function jsonParam(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    return new Error('not JSON');
  }
}

export function checkMessageContent(params: Record<string, unknown>, requireContent = true): ContentCheck {
  const rawText = params['text'];
  const text = rawText === undefined || rawText === null ? undefined : String(rawText);

  const blocks = jsonParam(params['blocks']);
  if (blocks instanceof Error || (blocks !== undefined && !Array.isArray(blocks))) {
    return { ok: false, error: 'invalid_blocks_format' };
  }
  const attachments = jsonParam(params['attachments']);
  if (attachments instanceof Error || (attachments !== undefined && !Array.isArray(attachments))) {
    return { ok: false, error: 'invalid_attachments' };
  }
  const hasBlocks = Array.isArray(blocks) && blocks.length > 0;
  const hasAttachments = Array.isArray(attachments) && attachments.length > 0;
  if (requireContent && (text === undefined || text === '') && !hasBlocks && !hasAttachments) {
    return { ok: false, error: 'no_text' };
  }
  if (text !== undefined && text.length > LIMITS.messageText) {
    return { ok: false, error: 'msg_too_long' };
  }
  if (blocks !== undefined) {
    const errors = validateBlocks(blocks, 'message');
    if (errors.length > 0) return { ok: false, error: 'invalid_blocks', errors };
  }
  const content: MessageContent = {};
  if (text !== undefined) content.text = text;
  if (blocks !== undefined) content.blocks = blocks as unknown[];
  if (attachments !== undefined) content.attachments = attachments as unknown[];
  return { ok: true, content };
}

/** Slack's error body for a failed content check (invalid_blocks lists each problem). */
export function contentErrorBody(check: { error: string; errors?: string[] }): Record<string, unknown> {
  const body: Record<string, unknown> = { ok: false, error: check.error };
  if (check.errors !== undefined) {
    body['errors'] = check.errors;
    body['response_metadata'] = { messages: check.errors.map((e) => `[ERROR] ${e}`) };
  }
  return body;
}

export function boolParam(value: unknown): boolean {
  return value === true || value === 'true' || value === '1' || value === 1;
}

export function stringParam(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  return String(value);
}

/**
 * The mrkdwn a reader sees in rendered blocks, as one string (no JSON escaping to fight in
 * regexes): section text and fields, and the text of context and action elements.
 */
export function blockText(blocks: unknown): string {
  const out: string[] = [];
  for (const b of (blocks as Array<Record<string, any>>) ?? []) {
    if (b.text?.text) out.push(b.text.text);
    for (const f of b.fields ?? []) out.push(f.text);
    for (const e of b.elements ?? []) if (typeof e.text === 'string') out.push(e.text);
    for (const e of b.elements ?? []) if (typeof e.text?.text === 'string') out.push(e.text.text);
  }
  return out.join('\n');
}
