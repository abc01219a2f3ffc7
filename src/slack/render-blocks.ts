/**
 * Reply → Block Kit, always within Slack's limits: a reply that would break one is shortened
 * (with a visible "…") rather than rejected with invalid_blocks.
 */
import type { Block, Button, Reply } from '../reply.ts';

export const LIMITS = {
  blocks: 50,
  sectionText: 3000,
  fields: 10,
  fieldText: 2000,
  header: 150,
  buttonText: 75,
  buttonValue: 2000,
  actionId: 255,
  contextElements: 10,
  contextText: 2000,
  actionsElements: 25,
  messageText: 40000,
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
};

export function truncate(s: string, max: number): string {
  if (s.length <= max) return s;
  return `${s.slice(0, max - 1)}…`;
}

/** Keeps the end of a log: the last lines are the ones that explain a failure. */
export function truncateHead(s: string, max: number): string {
  if (s.length <= max) return s;
  return `…${s.slice(s.length - max + 1)}`;
}

const plain = (text: string, max: number) => ({ type: 'plain_text' as const, text: truncate(text || ' ', max), emoji: true });
const mrkdwn = (text: string, max: number) => ({ type: 'mrkdwn' as const, text: truncate(text || ' ', max) });

function renderButton(b: Button, index: number, seen: Set<string>): Record<string, unknown> {
  let actionId = truncate(b.actionId, LIMITS.actionId - 4);
  // action_id must be unique within a message; several buttons may route to one handler.
  if (seen.has(actionId)) actionId = `${actionId}#${index}`;
  seen.add(actionId);
  const out: Record<string, unknown> = {
    type: 'button',
    text: plain(b.text, LIMITS.buttonText),
    action_id: actionId,
    value: b.value.slice(0, LIMITS.buttonValue),
  };
  if (b.style) out.style = b.style;
  if (b.confirm) {
    out.confirm = {
      title: plain(b.confirm.title, LIMITS.confirmTitle),
      text: plain(b.confirm.text, LIMITS.confirmText),
      confirm: plain(b.confirm.confirm, LIMITS.confirmButton),
      deny: plain(b.confirm.deny, LIMITS.confirmButton),
      ...(b.style === 'danger' ? { style: 'danger' } : {}),
    };
  }
  return out;
}

function renderBlock(b: Block, seenActions: Set<string>): Record<string, unknown>[] {
  switch (b.type) {
    case 'header':
      return [{ type: 'header', text: plain(b.text.replace(/[*`_]/g, ''), LIMITS.header) }];
    case 'section': {
      const out: Record<string, unknown> = { type: 'section', text: mrkdwn(b.text, LIMITS.sectionText) };
      if (b.fields?.length) out.fields = b.fields.slice(0, LIMITS.fields).map((f) => mrkdwn(f, LIMITS.fieldText));
      return [out];
    }
    case 'fields': {
      // More than ten fields become several sections.
      const chunks: Record<string, unknown>[] = [];
      for (let i = 0; i < b.fields.length; i += LIMITS.fields) {
        chunks.push({ type: 'section', fields: b.fields.slice(i, i + LIMITS.fields).map((f) => mrkdwn(f, LIMITS.fieldText)) });
      }
      return chunks;
    }
    case 'context': {
      const els = b.elements.slice(0, LIMITS.contextElements);
      if (b.elements.length > LIMITS.contextElements) {
        els[LIMITS.contextElements - 1] = b.elements.slice(LIMITS.contextElements - 1).join(' · ');
      }
      return [{ type: 'context', elements: els.map((e) => mrkdwn(e, LIMITS.contextText)) }];
    }
    case 'code': {
      // A backtick next to a fence would make four in a row, which ends the block early or late.
      let body = truncateHead(b.text.replace(/```/g, "'''"), LIMITS.sectionText - 10);
      if (body.startsWith('`')) body = ` ${body}`;
      if (body.endsWith('`')) body = `${body} `;
      return [{ type: 'section', text: { type: 'mrkdwn', text: `\`\`\`${body}\`\`\`` } }];
    }
    case 'divider':
      return [{ type: 'divider' }];
    case 'actions': {
      if (b.buttons.length === 0) return [];
      const elements = b.buttons.slice(0, LIMITS.actionsElements).map((btn, i) => renderButton(btn, i, seenActions));
      return [{ type: 'actions', elements }];
    }
  }
}

export function renderBlocks(r: Reply): { text: string; blocks: Record<string, unknown>[] } {
  const seen = new Set<string>();
  let blocks = r.blocks.flatMap((b) => renderBlock(b, seen));
  if (r.confirmation) {
    const c = r.confirmation;
    blocks.push({ type: 'section', text: mrkdwn(c.question, LIMITS.sectionText) });
    blocks.push(...renderBlock({ type: 'actions', buttons: [
      { text: c.confirmLabel, actionId: c.actionId, value: c.token, style: 'danger', confirm: { title: 'Are you sure?', text: truncate(c.question.replace(/[*`_]/g, ''), LIMITS.confirmText), confirm: truncate(c.confirmLabel, LIMITS.confirmButton), deny: 'Cancel' } },
      ...(c.cancelActionId ? [{ text: 'Cancel', actionId: c.cancelActionId, value: c.token }] : []),
    ] }, seen));
  }
  if (blocks.length > LIMITS.blocks) {
    // Keep the first blocks (problems come first) and any trailing actions (the buttons).
    const tail = blocks[blocks.length - 1]?.type === 'actions' ? [blocks[blocks.length - 1]!] : [];
    const keep = LIMITS.blocks - 1 - tail.length;
    const dropped = blocks.length - keep - tail.length;
    blocks = [...blocks.slice(0, keep), { type: 'context', elements: [mrkdwn(`…and ${dropped} more blocks not shown: narrow the command down (for example by namespace).`, LIMITS.contextText)] }, ...tail];
  }
  return { text: truncate(r.text || ' ', LIMITS.messageText), blocks };
}
