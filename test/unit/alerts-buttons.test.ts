// Silence buttons: signed values with an expiry, which buttons a diagnosis offers, and the click
// handlers' refusals and silences (Alertmanager's API served by nock).
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import nock from 'nock';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { ButtonSigner, epochSeconds, SILENCE_ACTION, UNSILENCE_ACTION } from '../../src/alerts/button-values.ts';
import { Diagnoser, windowForSilence } from '../../src/alerts/diagnoser.ts';
import { BackupFacts } from '../../src/backup-window/facts.ts';
import type { WindowState } from '../../src/backup-window/facts.ts';
import { DEFAULT_PATTERNS } from '../../src/alerts/classify.ts';
import { SilencesClient } from '../../src/alerts/silences.ts';
import { silenceActions, silenceMarker } from '../../commands/alerts.ts';
import { AccessControl } from '../../src/access.ts';
import { AuditLog } from '../../src/audit.ts';
import type { AuditRecord } from '../../src/audit.ts';
import type { CommandContext, Services } from '../../src/command/context.ts';
import { commandSet, dispatchAction } from '../../src/command/dispatch.ts';

const log = pino({ level: 'silent' });
const AM = 'http://alertmanager.test:9093';
const LABELS = { alertname: 'KubePodCrashLooping', namespace: 'media', pod: 'plex-5d8c7b9f6d-abcde', container: 'plex' };

afterEach(() => nock.cleanAll());

describe('ButtonSigner', () => {
  const signer = new ButtonSigner('xoxb-one');
  const now = new Date('2030-03-10T02:10:00Z');
  it('round-trips a value until its expiry', () => {
    const v = signer.encode({ k: '1h', l: LABELS, x: epochSeconds(now) + 60 });
    assert.deepEqual(signer.decode(v, now), { ok: true, value: { k: '1h', l: LABELS, x: epochSeconds(now) + 60 } });
    const late = signer.decode(v, new Date(now.getTime() + 61_000));
    assert.equal(late.ok, false);
    assert.equal(!late.ok && late.reason, 'expired');
  });
  it('refuses a value changed after signing, signed with another key, or garbage', () => {
    const v = signer.encode({ k: '1h', l: LABELS, x: epochSeconds(now) + 60 });
    const [body, mac] = v.split('.');
    const changed = Buffer.from(Buffer.from(body!, 'base64url').toString().replace('plex-', 'sonarr-')).toString('base64url');
    assert.deepEqual(signer.decode(`${changed}.${mac}`, now), { ok: false, reason: 'invalid' });
    assert.deepEqual(new ButtonSigner('xoxb-two').decode(v, now), { ok: false, reason: 'invalid' });
    assert.deepEqual(signer.decode('nonsense', now), { ok: false, reason: 'invalid' });
    assert.ok(v.length < 2000, 'fits a button value');
  });
});

function windowState(over: Partial<WindowState>): WindowState {
  const start = new Date('2030-03-10T02:00:00Z');
  return { name: 'pbs', zone: 'UTC', mode: 'annotate', open: false, inGrace: false, transientPod: false, instance: { name: 'pbs', start, end: new Date('2030-03-10T03:30:00Z'), graceEnd: new Date('2030-03-10T03:45:00Z'), id: 'pbs@x' }, ...over };
}

describe('which silence buttons a diagnosis offers', () => {
  it('"until the window ends" only when a window is open (or in grace), or the crash is a known transient', () => {
    assert.equal(windowForSilence([windowState({})], false), undefined);
    assert.equal(windowForSilence([windowState({ open: true })], false)?.name, 'pbs');
    assert.equal(windowForSilence([windowState({ inGrace: true })], false)?.name, 'pbs');
    assert.equal(windowForSilence([windowState({})], true)?.name, 'pbs');
    assert.equal(windowForSilence([windowState({ name: 'a', open: true }), windowState({ name: 'b', open: true, transientPod: true })], false)?.name, 'b');
  });

  it('the window button ends at the window\'s end + grace and expires with it', () => {
    const signer = new ButtonSigner('xoxb-one');
    const d = new Diagnoser({ patterns: DEFAULT_PATTERNS, backup: new BackupFacts({ windows: [] }), signer, buttonTtlMs: 12 * 3600_000 });
    const now = new Date('2030-03-10T02:10:00Z');
    const buttons = d.silenceButtons({ ...LABELS, severity: 'warning' }, [windowState({ open: true })], false, now);
    assert.deepEqual(buttons.map((b) => b.text), ['Silence until pbs ends (03:45 UTC)', 'Silence 1 h', 'Silence 4 h']);
    const w = signer.decode(buttons[0]!.value, now);
    assert.ok(w.ok && w.value.k === 'window');
    assert.equal(w.ok && w.value.k === 'window' ? w.value.e : 0, epochSeconds(new Date('2030-03-10T03:45:00Z')));
    assert.equal(w.ok ? w.value.x : 0, epochSeconds(new Date('2030-03-10T03:45:00Z')));
    const h = signer.decode(buttons[1]!.value, now);
    assert.deepEqual(h.ok && h.value.l, LABELS, 'scoped to alertname, namespace, pod and container only');
    assert.equal(h.ok ? h.value.x : 0, epochSeconds(now) + 12 * 3600);
  });
});

describe('silence button clicks', () => {
  const signer = new ButtonSigner('xoxb-one');
  const now = new Date('2030-03-10T02:10:00Z');
  const audits: AuditRecord[] = [];
  const audit = new AuditLog(log);
  audit.onRecord((r) => audits.push(r));
  const services = {
    log, audit,
    access: new AccessControl({ operators: { users: ['U0OLIVE01'], groups: [] }, channels: [], log }),
  } as unknown as Services;
  const ctx = (user: string): CommandContext => ({ actor: { id: user, name: 'olive', via: 'slack' }, channel: 'C0ALERTS1', services, now: () => now, notify: async () => {} });
  // Through the framework, as a click arrives: it does the operator check the buttons declare.
  const buttonsFor = (silences: SilencesClient) => commandSet([], silenceActions({ silences, signer }));
  const commands = buttonsFor(new SilencesClient({ baseUrl: AM }));
  /**
   * A real HTTP server that answers the look-up (or not) and never answers the POST, and buttons
   * that wait 100 ms for it: the "no answer" paths without waiting 10 s (nock's delay trips an
   * assertion inside undici when the request is aborted).
   */
  async function silentAlertmanager(answerLookup: boolean): Promise<{ buttons: ReturnType<typeof buttonsFor>; posts: () => number; close: () => Promise<void> }> {
    let posts = 0;
    const server = createServer((req, res) => {
      if (req.method === 'POST') posts += 1;
      else if (answerLookup) res.writeHead(200, { 'content-type': 'application/json' }).end('[]');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return {
      // Long enough that the answered lookup never times out on a loaded machine; the unanswered request does.
      buttons: buttonsFor(new SilencesClient({ baseUrl: `http://127.0.0.1:${port}`, timeoutMs: 1500 })),
      posts: () => posts,
      close: () => { server.closeAllConnections(); return new Promise((resolve) => server.close(() => resolve())); },
    };
  }
  const click = (actionId: string, value: string, user = 'U0OLIVE01', via = commands) =>
    dispatchAction(via, { actionId, value, actor: { id: user, via: 'slack' }, channel: 'C0ALERTS1', messageTs: '2.0', threadTs: '1.0' }, ctx(user));

  it('a non-operator is refused before anything reaches Alertmanager', async () => {
    const r = await click(SILENCE_ACTION, signer.encode({ k: '1h', l: LABELS, x: epochSeconds(now) + 60 }), 'U0NORA001');
    assert.match(r.ephemeral!.text, /Only operators/);
    assert.equal(audits.at(-1)!.outcome, 'denied');
  });

  it('a late click is refused with when it expired', async () => {
    const r = await click(SILENCE_ACTION, signer.encode({ k: '1h', l: LABELS, x: epochSeconds(now) - 1 }));
    assert.match(r.ephemeral!.text, /This button expired at 02:09 UTC/);
    assert.equal(audits.at(-1)!.outcome, 'expired');
  });

  it('"until the window ends" creates a silence ending at the window\'s end + grace, with our marker, and posts it with an Unsilence button', async () => {
    let posted: { matchers: unknown; endsAt: string; createdBy: string; comment: string } | undefined;
    nock(AM).get('/api/v2/silences').reply(200, []);
    nock(AM).post('/api/v2/silences', (b) => { posted = b; return true; }).reply(200, { silenceID: 'abcdef12-3456-7890-abcd-ef1234567890' });
    const r = await click(SILENCE_ACTION, signer.encode({ k: 'window', l: LABELS, x: epochSeconds(now) + 3600, e: epochSeconds(new Date('2030-03-10T03:45:00Z')), w: 'pbs' }));
    assert.ok(posted);
    assert.equal(posted.endsAt, '2030-03-10T03:45:00.000Z');
    assert.equal(posted.createdBy, 'olive (Slack U0OLIVE01)');
    assert.ok(posted.comment.includes(silenceMarker(LABELS)));
    assert.match(posted.comment, /until the pbs window ends/);
    const note = r.thread![0]!;
    assert.match(JSON.stringify(note.blocks), /silenced `media\/plex-5d8c7b9f6d-abcde \(plex\)` KubePodCrashLooping until the pbs window ends, until 03:45 UTC/);
    assert.match(JSON.stringify(note.blocks), /#\/silences\/abcdef12-3456-7890-abcd-ef1234567890\|abcdef12/);
    const unsilence = note.blocks.find((b) => b.type === 'actions');
    assert.ok(unsilence && unsilence.type === 'actions' && unsilence.buttons[0]!.actionId === UNSILENCE_ACTION);
    assert.equal(audits.at(-1)!.outcome, 'succeeded');
  });

  it('a second click finds the silence already made instead of stacking another', async () => {
    nock(AM).get('/api/v2/silences').reply(200, [{
      id: 'abcdef12-3456', status: { state: 'active' }, updatedAt: now.toISOString(), matchers: [], startsAt: now.toISOString(),
      endsAt: '2030-03-10T06:10:00Z', createdBy: 'olive (Slack U0OLIVE01)', comment: `x ${silenceMarker(LABELS)}`,
    }]);
    const r = await click(SILENCE_ACTION, signer.encode({ k: '1h', l: LABELS, x: epochSeconds(now) + 60 }));
    assert.match(r.ephemeral!.text, /Already silenced/);
    assert.ok(nock.isDone());
  });

  it('an Alertmanager failure is reported to the clicker and audited as failed', async () => {
    nock(AM).get('/api/v2/silences').reply(500, 'boom');
    const r = await click(SILENCE_ACTION, signer.encode({ k: '4h', l: LABELS, x: epochSeconds(now) + 60 }));
    assert.match(r.ephemeral!.text, /Could not silence/);
    assert.match(r.ephemeral!.text, /Nothing was silenced\.$/);
    assert.equal(audits.at(-1)!.outcome, 'failed');
  });

  it('no answer to the look-up, so nothing was sent: nothing was silenced, click again once Alertmanager is back', async () => {
    const am = await silentAlertmanager(false);
    const r = await click(SILENCE_ACTION, signer.encode({ k: '1h', l: LABELS, x: epochSeconds(now) + 60 }), 'U0OLIVE01', am.buttons).finally(am.close);
    assert.equal(am.posts(), 0);
    assert.match(r.ephemeral!.text, /did not answer GET \/api\/v2\/silences within (1500 ms|1\.5 ?s)/);
    assert.match(r.ephemeral!.text, /Nothing was silenced: click the button again once Alertmanager is back\.$/);
    assert.equal(audits.at(-1)!.outcome, 'failed');
  });

  it('no answer after the silence was sent: it may exist, so the reply says where to look instead of "nothing was silenced"', async () => {
    const am = await silentAlertmanager(true);
    const r = await click(SILENCE_ACTION, signer.encode({ k: '1h', l: LABELS, x: epochSeconds(now) + 60 }), 'U0OLIVE01', am.buttons).finally(am.close);
    assert.equal(am.posts(), 1, 'the silence was sent');
    assert.doesNotMatch(r.ephemeral!.text, /Nothing was silenced/);
    assert.match(r.ephemeral!.text, /did not answer POST \/api\/v2\/silences within (1500 ms|1\.5 ?s).* may have made it .*look for it in Alertmanager's silences, and click the button again if it is not there\.$/);
    assert.equal(audits.at(-1)!.outcome, 'failed');
  });
});
