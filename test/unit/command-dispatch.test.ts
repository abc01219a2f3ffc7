// The framework's part of every command and button: a UserError is an answer (never an error log),
// the operator check, the denied audit, the no-cluster check and the confirmation are done once,
// from the declaration, before a handler runs.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import pino from 'pino';
import { parseEnv, parseFileConfig } from '../../src/config.ts';
import { AccessControl } from '../../src/access.ts';
import { AuditLog } from '../../src/audit.ts';
import type { AuditRecord } from '../../src/audit.ts';
import { Confirmations, MemoryConfirmationStore } from '../../src/confirm/confirmations.ts';
import { SingleReplica } from '../../src/leader.ts';
import type { Actor, CommandContext, Services } from '../../src/command/context.ts';
import type { Kube } from '../../src/kube/client.ts';
import { commandSet, dispatch, dispatchAction } from '../../src/command/dispatch.ts';
import { NO_CLUSTER, UserError } from '../../src/errors.ts';
import { VOLSYNC_MISSING } from '../../src/backup/inventory.ts';
import { backupCommands } from '../../commands/backup/index.ts';
import { resticCommands } from '../../commands/restic/index.ts';
import { RUN_ACTION, RUN_AUDIT_ACTION, RUN_CANCEL_ACTION } from '../../commands/backup/run.ts';
import { lockButtons, REMOVE_ALL_ACTION, VOLSYNC_UNLOCK_ACTION } from '../../commands/restic/actions.ts';
import { COMMAND_BUTTON_ACTION, commandButton } from '../../src/command/command-button.ts';
import { reply } from '../../src/reply.ts';

const OLIVE: Actor = { id: 'U0OLIVE01', name: 'olive', via: 'slack' };
const NORA: Actor = { id: 'U0NORA001', name: 'nora', via: 'slack' };

/** A bot's services with a log whose lines the test reads, and an optional cluster. */
function harness(kube?: Kube) {
  const lines: Array<{ level: number; msg?: string; err?: { stack?: string } }> = [];
  const sink = new Writable({ write(chunk: Buffer, _enc, done) { for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l)); done(); } });
  const log = pino({ level: 'debug' }, sink);
  const config = { ...parseFileConfig({ slack: { operators: { users: [OLIVE.id] } } }, 'test'), env: parseEnv({ SLACK_MODE: 'terminal' }), source: 'test' };
  const audit = new AuditLog(pino({ level: 'silent' }));
  const audits: AuditRecord[] = [];
  audit.onRecord((r) => audits.push(r));
  const services: Services = {
    config, log, audit,
    access: new AccessControl({ operators: { users: [OLIVE.id], groups: [] }, channels: [], log }),
    confirmations: new Confirmations({ store: new MemoryConfirmationStore(), ttlMs: 10 * 60_000 }),
    leadership: new SingleReplica(),
    ...(kube ? { kube } : {}),
  };
  const ctx = (actor: Actor): CommandContext => ({ actor, channel: 'C0OPS', services, now: () => new Date(), notify: async () => {} });
  const errors = () => lines.filter((l) => l.level >= 50);
  return { services, ctx, audits, errors };
}

/** A cluster without VolSync: every ReplicationSource read is a 404 for the whole resource. */
const noVolSync = {
  server: 'https://kube.test:6443',
  custom: {
    getNamespacedCustomObject: async () => {
      throw Object.assign(new Error('HTTP-Code: 404'), { code: 404, body: '404 page not found: the server could not find the requested resource' });
    },
    listNamespacedCustomObject: async () => {
      throw Object.assign(new Error('HTTP-Code: 404'), { code: 404, body: 'the server could not find the requested resource' });
    },
  },
} as unknown as Kube;

const commands = () => commandSet([backupCommands(), resticCommands()]);

describe('a UserError is an answer, never an error log', () => {
  it('/backup run: the line is the reply, and nothing is logged at error level', async () => {
    const h = harness(noVolSync);
    const r = await dispatch(commands(), '/backup', 'run media plex', h.ctx(OLIVE));
    assert.equal(r.tone, 'error');
    assert.match(r.text, new RegExp(VOLSYNC_MISSING.slice(0, 40).replace(/[()[\].*+?^$|\\]/g, '\\$&')));
    assert.deepEqual(h.errors(), [], 'no error-level log line, no stack trace');
  });

  it('a button whose handler throws a UserError: the line goes to the clicker, no error log', async () => {
    const h = harness();
    const set = commandSet([], [{ id: 'bb:test:refuse', action: 'test', handler: async () => { throw new UserError('Not now: the source is paused.', 'failed'); } }]);
    const r = await dispatchAction(set, { actionId: 'bb:test:refuse', value: '', actor: OLIVE, channel: 'C0OPS' }, h.ctx(OLIVE));
    assert.match(r.ephemeral!.text, /Not now: the source is paused\./);
    assert.deepEqual(h.errors(), []);
  });

  it('anything else is an internal error: a generic line, and the stack in the log', async () => {
    const h = harness();
    const set = commandSet([], [{ id: 'bb:test:boom', action: 'test', handler: async () => { throw new Error('secret internals'); } }]);
    const r = await dispatchAction(set, { actionId: 'bb:test:boom', value: '', actor: OLIVE, channel: 'C0OPS' }, h.ctx(OLIVE));
    assert.doesNotMatch(r.ephemeral!.text, /secret internals/);
    assert.match(r.ephemeral!.text, /internal error/);
    assert.equal(h.errors().length, 1);
  });
});

describe('actions are checked by the framework, from their declaration', () => {
  it('a non-operator\'s click on any mutating button is refused and audited as denied', async () => {
    for (const actionId of [RUN_ACTION, RUN_CANCEL_ACTION, REMOVE_ALL_ACTION, VOLSYNC_UNLOCK_ACTION]) {
      const h = harness(noVolSync);
      const r = await dispatchAction(commands(), { actionId, value: 'x'.repeat(22), actor: NORA, channel: 'C0OPS' }, h.ctx(NORA));
      assert.match(r.ephemeral!.text, /Only operators/, actionId);
      assert.equal(h.audits.at(-1)?.outcome, 'denied', actionId);
    }
  });

  it('without a cluster, the verbs and buttons that need one say so', async () => {
    const h = harness();
    assert.equal((await dispatch(commands(), '/backup', 'run media plex', h.ctx(OLIVE))).text, NO_CLUSTER);
    assert.equal((await dispatch(commands(), '/restic', 'locks media plex', h.ctx(OLIVE))).text, NO_CLUSTER);
    const clicked = await dispatchAction(commands(), { actionId: VOLSYNC_UNLOCK_ACTION, value: 'x'.repeat(22), actor: OLIVE, channel: 'C0OPS' }, h.ctx(OLIVE));
    assert.equal(clicked.ephemeral!.text, NO_CLUSTER);
  });

  it('the confirmation is approved before the handler runs; a replay is refused with its reason and audited', async () => {
    const h = harness();
    let ran = 0;
    const set = commandSet([], [{ id: 'bb:test:go', action: RUN_AUDIT_ACTION, mutating: true, answers: 'approve', handler: async (_i, _c, answer) => { ran++; assert.equal(answer?.requester.id, NORA.id); return {}; } }]);
    const rec = await h.services.confirmations.create({ action: RUN_AUDIT_ACTION, target: 'media/plex', requester: NORA });
    const click = () => dispatchAction(set, { actionId: 'bb:test:go', value: rec.id, actor: OLIVE, channel: 'C0OPS' }, h.ctx(OLIVE));
    await click();
    assert.equal(ran, 1);
    const again = await click();
    assert.equal(ran, 1);
    assert.match(again.ephemeral!.text, /works once/);
    assert.equal(h.audits.at(-1)?.outcome, 'refused');
    assert.deepEqual(h.errors(), []);
  });
});

describe('command buttons run the command as if the clicker had typed it', () => {
  const click = (set: ReturnType<typeof commands>, value: string, actor: Actor, h: ReturnType<typeof harness>) =>
    dispatchAction(set, { actionId: COMMAND_BUTTON_ACTION, value, actor, channel: 'C0OPS', messageTs: '1.2' }, h.ctx(actor));

  it('the lock buttons run /restic unlock and --remove-all, and a non-operator is refused as when typing it', async () => {
    const [stale, all] = lockButtons('media', 'plex');
    assert.deepEqual([stale!.value, all!.value], ['/restic unlock media plex', '/restic unlock media plex --remove-all']);
    for (const b of [stale!, all!]) {
      const h = harness(noVolSync);
      const r = await click(commands(), b.value, NORA, h);
      assert.match(r.ephemeral!.text, /Only operators/, b.text);
      assert.deepEqual(h.audits.map((a) => [a.action, a.outcome]), [['/restic unlock', 'denied']], b.text);
    }
  });

  it('without a cluster the button says so, like the command', async () => {
    const h = harness();
    const [stale] = lockButtons('media', 'plex');
    assert.equal((await click(commands(), stale!.value, OLIVE, h)).ephemeral!.text, NO_CLUSTER);
  });

  it('a value naming a verb no button may run, an unknown command or an invalid name is refused, audited, and runs nothing', async () => {
    let ran = 0;
    const family = {
      command: '/t', summary: 't',
      verbs: [
        { verb: 'open', summary: 'o', args: [{ name: 'namespace', kind: 'namespace' as const }], button: true, handler: async () => { ran++; return reply('ran', [], { visibility: 'channel' }); } },
        { verb: 'closed', summary: 'c', args: [], handler: async () => { ran++; return reply('ran'); } },
      ],
    };
    const set = commandSet([family]);
    for (const value of ['/t closed', '/nope open media', '/t open ../etc', '/t open media extra', '', '/t']) {
      const h = harness();
      const r = await click(set, value, OLIVE, h);
      assert.equal(r.thread, undefined, value);
      assert.equal(r.ephemeral?.tone, 'error', value);
      assert.equal(h.audits.at(-1)?.outcome, 'refused', value);
    }
    assert.equal(ran, 0);
    const h = harness();
    const r = await click(set, '/t open media', OLIVE, h);
    assert.equal(ran, 1);
    assert.equal(r.thread?.[0]?.text, 'ran', 'a reply others should see goes into the thread');
  });

  it('a value longer than Slack allows is refused when the button is built', () => {
    assert.throws(() => commandButton('x', '/restic', `unlock ${'a'.repeat(2000)} b`), /longer than Slack allows/);
  });
});
