import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderBlocks } from '../../src/slack/render-blocks.ts';
import { renderText } from '../../src/terminal/render-text.ts';
import { validateBlocks } from '../harness/slack/block-kit-validator.ts';
import { parse } from '../../src/command/registry.ts';
import { backupCommands } from '../../commands/backup/index.ts';
import { resticCommands } from '../../commands/restic/index.ts';
import type { Reply } from '../../src/reply.ts';
import { errorReply } from '../../src/reply.ts';

function valid(r: Reply) {
  const { blocks, text } = renderBlocks(r);
  assert.deepEqual(validateBlocks(blocks), [], JSON.stringify(blocks).slice(0, 400));
  assert.ok(text.length > 0 && text.length <= 40000);
  return blocks;
}

test('every help and usage reply of both commands is valid Block Kit', () => {
  for (const family of [backupCommands(), resticCommands()]) {
    for (const text of ['help', '', 'nonsense', ...family.verbs.map((v) => `help ${v.verb}`), ...family.verbs.map((v) => `${v.verb} BAD_ARG`)]) {
      const r = parse(family, text);
      if (!r.ok) valid(r.reply);
    }
  }
});

test('an oversized reply is shortened to fit every limit, keeping the first blocks and the buttons', () => {
  const huge: Reply = {
    text: 'x'.repeat(50_000),
    visibility: 'channel',
    blocks: [
      { type: 'header', text: 'H'.repeat(400) },
      ...Array.from({ length: 120 }, (_, i) => ({ type: 'section' as const, text: `problem ${i} ${'y'.repeat(4000)}`, fields: Array.from({ length: 14 }, () => 'f'.repeat(2500)) })),
      { type: 'fields', fields: Array.from({ length: 25 }, (_, i) => `field ${i}`) },
      { type: 'context', elements: Array.from({ length: 14 }, (_, i) => `c${i}`) },
      { type: 'code', text: `${'early line\n'.repeat(1000)}the last line explains the failure` },
      { type: 'actions', buttons: Array.from({ length: 30 }, (_, i) => ({ text: `Button ${i} ${'b'.repeat(100)}`, actionId: 'bb:test:same', value: 'v'.repeat(3000) })) },
    ],
  };
  const blocks = valid(huge);
  assert.equal(blocks.length, 50);
  assert.match(JSON.stringify(blocks[0]), /problem|H{10}/);
  assert.equal(blocks.at(-1)!.type, 'actions');
  assert.match(JSON.stringify(blocks.at(-2)), /more blocks not shown: narrow the command down/);
});

test('a code block keeps the end of a long log, where the error is', () => {
  const blocks = valid({ text: 't', visibility: 'ephemeral', blocks: [{ type: 'code', text: `${'noise\n'.repeat(2000)}FATAL oplog is locked by another instance of backrest` }] });
  assert.match(JSON.stringify(blocks[0]), /FATAL oplog is locked by another instance of backrest```/);
});

test('a confirmation becomes a danger button with Slack\'s confirm dialog, within limits', () => {
  const blocks = valid({ text: 'confirm', visibility: 'channel', blocks: [{ type: 'section', text: 'evidence' }], confirmation: { actionId: 'bb:restic:remove-all', token: 'tok', question: `Remove every lock? ${'q'.repeat(600)}`, confirmLabel: 'Remove all locks', cancelActionId: 'bb:restic:cancel' } });
  const actions = blocks.at(-1) as { elements: Array<{ style?: string; confirm?: unknown; action_id: string; value: string }> };
  assert.equal(actions.elements[0]!.style, 'danger');
  assert.ok(actions.elements[0]!.confirm);
  assert.equal(actions.elements[0]!.value, 'tok');
  assert.equal(actions.elements[1]!.action_id, 'bb:restic:cancel');
});

test('text rendering strips mrkdwn and spells out links and mentions', () => {
  const text = renderText({ text: 't', visibility: 'ephemeral', blocks: [
    { type: 'header', text: 'Backups' },
    { type: 'section', text: '*2 failing* in `media`: see <https://am.example/#/silences/1|the silence>, ask <!subteam^S0123SRE> or <@U0123ALICE> in <#C0123OPS>' },
    { type: 'code', text: 'line 1\nline 2' },
    { type: 'actions', buttons: [{ text: 'Do it', actionId: 'bb:x', value: 'v' }] },
  ] });
  assert.equal(text, 'Backups\n2 failing in media: see the silence (https://am.example/#/silences/1), ask @S0123SRE or @U0123ALICE in #C0123OPS\n    line 1\n    line 2');
  assert.equal(renderText(errorReply('Something broke. Do this next.')), 'Something broke. Do this next.');
});

test('text rendering keeps code spans literal: a cron schedule is not bold', () => {
  assert.equal(renderText({ text: 't', visibility: 'ephemeral', blocks: [{ type: 'section', text: '*plex* runs `0 * * * *` and `*/5 * * * *`' }] }), 'plex runs 0 * * * * and */5 * * * *');
});
