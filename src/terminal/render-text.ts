/** Reply → plain text for the terminal and for logs: mrkdwn markers stripped, links spelled out. */
import type { Block, Reply } from '../reply.ts';

export function mrkdwnToText(s: string): string {
  // Code spans are literal (a cron schedule's `0 * * * *` is not bold): set them aside first.
  const spans: string[] = [];
  const withoutCode = s.replace(/`([^`\n]+)`/g, (_m, code: string) => `\u0000${spans.push(code) - 1}\u0000`);
  return withoutCode
    .replace(/<(https?:[^|>]+)\|([^>]+)>/g, '$2 ($1)')
    .replace(/<(https?:[^>]+)>/g, '$1')
    .replace(/<#([A-Z0-9]+)(\|[^>]*)?>/g, '#$1')
    .replace(/<@([A-Z0-9]+)>/g, '@$1')
    .replace(/<!subteam\^([A-Z0-9]+)(\|[^>]*)?>/g, '@$1')
    .replace(/(^|[\s(])\*([^*\n]+)\*(?=[\s).,:;!?]|$)/gm, '$1$2')
    .replace(/(^|[\s(])_([^_\n]+)_(?=[\s).,:;!?]|$)/gm, '$1$2')
    // Emoji shortcodes (:warning:, :white_circle:) mean nothing in a terminal.
    .replace(/(^|[\s(]):[a-z][a-z0-9_+-]*[a-z0-9]:(?=[\s)]|$)\s?/gm, '$1')
    .replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&')
    .replace(/\u0000(\d+)\u0000/g, (_m, i: string) => unescapeEntities(spans[Number(i)] ?? ''));
}

/** Slack's three entities back to characters: code is escaped for mrkdwn too, and a terminal shows it as typed. */
function unescapeEntities(s: string): string {
  return s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

function blockToText(b: Block): string[] {
  switch (b.type) {
    case 'header': return [mrkdwnToText(b.text)];
    case 'section': return [mrkdwnToText(b.text), ...(b.fields ?? []).map((f) => `  ${mrkdwnToText(f).replace(/\n/g, ' ')}`)];
    case 'fields': return b.fields.map((f) => `  ${mrkdwnToText(f).replace(/\n/g, ' ')}`);
    case 'context': return [mrkdwnToText(b.elements.join(' · '))];
    case 'code': return unescapeEntities(b.text).split('\n').map((l) => `    ${l}`);
    case 'divider': return [''];
    case 'actions': return [];
  }
}

export function renderText(r: Reply): string {
  const lines = r.blocks.length ? r.blocks.flatMap(blockToText) : [mrkdwnToText(r.text)];
  if (r.confirmation) lines.push(mrkdwnToText(r.confirmation.question));
  return lines.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd();
}
