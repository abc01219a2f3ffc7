// `/backup window`: open or not, the current or next instance in UTC and in the caller's own zone,
// the silences the bot owns (linked), the alerts it annotated, one section per window, valid Block Kit.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { WebClient } from '@slack/web-api';
import type { Actor, CommandContext, Services } from '../../src/command/context.ts';
import type { Reply } from '../../src/reply.ts';
import { BackupWindowService } from '../../src/backup-window/service.ts';
import { MemoryWindowStore } from '../../src/backup-window/state.ts';
import { SlackUserZones } from '../../src/slack/user-zones.ts';
import { terminalZone } from '../../src/terminal/local-zone.ts';
import { windowCommand } from '../../commands/backup/window.ts';
import { renderBlocks } from '../../src/slack/render-blocks.ts';
import type { ChannelPoster } from '../../src/slack/poster.ts';
import { validateBlocks } from '../harness/slack/block-kit-validator.ts';
import { crashEvent, FixedMovers, RecordingSilences, testConfig, testServices } from './backup-window-fixtures.ts';

// The zone cache belongs to the Slack transport; each test's services stand for a new bot.
const zonesOf = new WeakMap<Services, SlackUserZones>();

function fakeSlack(tz: string | undefined): { slack: NonNullable<Services['slack']>; calls: () => number } {
  let calls = 0;
  const client = {
    users: {
      info: async ({ user }: { user: string }) => {
        calls++;
        return { ok: true, user: { id: user, ...(tz ? { tz } : {}) } };
      },
    },
  } as unknown as WebClient;
  return { slack: { client, poster: undefined as unknown as ChannelPoster }, calls: () => calls };
}

/** The actor as each transport makes it: Slack knows the user's zone from their profile, the terminal the machine's. */
function ctxFor(services: Services, now: Date, via: 'slack' | 'terminal' = 'slack'): CommandContext {
  let timeZone: Actor['timeZone'];
  if (via === 'terminal') timeZone = terminalZone;
  else if (services.slack) {
    const zones = zonesOf.get(services) ?? new SlackUserZones(services.slack.client, services.log);
    zonesOf.set(services, zones);
    timeZone = () => zones.of('U0KIWI', now);
  }
  return { actor: { id: 'U0KIWI', via, ...(timeZone ? { timeZone } : {}) }, channel: via === 'slack' ? 'C0OPS' : undefined, services, now: () => now, notify: async () => undefined };
}

const cmd = { command: '/backup', verb: 'window', args: {}, flags: new Set<string>() };

function allText(r: Reply): string {
  return [r.text, ...r.blocks.map((b) => ('text' in b ? b.text : 'elements' in b ? b.elements.join(' | ') : ''))].join('\n');
}

function assertValid(r: Reply): void {
  assert.deepEqual(validateBlocks(renderBlocks(r).blocks), []);
}

describe('/backup window', () => {
  it('shows the next window in UTC and in the caller\'s zone from Slack, and asks Slack once', async () => {
    const { slack, calls } = fakeSlack('Pacific/Auckland');
    const services = testServices({ config: testConfig({}), slack });
    const now = new Date('2026-11-21T12:00:00.000Z');
    const r = await windowCommand()(cmd, ctxFor(services, now));
    const text = allText(r);
    assert.match(text, /\*pbs\* · `annotate` · :white_circle: closed/);
    assert.match(text, /Next: Sun 22 Nov 02:00 UTC – 03:30 UTC \(late crashes count until 03:45 UTC\)/);
    assert.match(text, /Your time \(Pacific\/Auckland, from your Slack profile\): Sun 22 Nov 15:00 NZDT – 16:30 NZDT/);
    assert.match(r.text, /^pbs: closed; next opens Sun 22 Nov 02:00 UTC, closes 03:30 UTC \(Sun 22 Nov 15:00 NZDT – 16:30 NZDT your time\)$/);
    assert.equal(r.visibility, 'ephemeral');
    assertValid(r);
    await windowCommand()(cmd, ctxFor(services, now));
    assert.equal(calls(), 1, 'the zone is remembered');
  });

  it('in winter the same user sees NZST, and a window crossing midnight shows both dates', async () => {
    const { slack } = fakeSlack('Pacific/Auckland');
    const services = testServices({ config: testConfig({ windows: [{ name: 'late', start: '23:00', end: '00:30' }] }), slack });
    const r = await windowCommand()(cmd, ctxFor(services, new Date('2026-07-01T12:00:00.000Z')));
    assert.match(allText(r), /Next: Wed 1 Jul 23:00 UTC – Thu 2 Jul 00:30 UTC/);
    assert.match(allText(r), /Your time \(Pacific\/Auckland, from your Slack profile\): Thu 2 Jul 11:00 NZST – 12:30 NZST/);
    assertValid(r);
  });

  it('while open: says so, lists the silence it owns with a link, and the alerts it annotated', async () => {
    const { slack } = fakeSlack('Europe/Berlin');
    const services = testServices({ config: testConfig({ windows: [{ name: 'pbs', start: '02:00', end: '03:30', mode: 'mute' }] }), slack });
    let clock = new Date('2026-11-22T02:00:00.000Z');
    const silences = new RecordingSilences();
    const svc = new BackupWindowService({ services, store: new MemoryWindowStore(), silences, movers: new FixedMovers(), now: () => clock });
    const windows = () => svc;
    await svc.reconcile();
    clock = new Date('2026-11-22T02:14:00.000Z');
    await svc.annotate(crashEvent({ pod: 'kube-scheduler-talos-monitor', at: clock }));
    await svc.annotate(crashEvent({ pod: 'plex-abc', namespace: 'media', at: clock }));
    await svc.flush();

    const r = await windowCommand({ windows })(cmd, ctxFor(services, new Date('2026-11-22T02:20:00.000Z')));
    const text = allText(r);
    const id = silences.active()[0]!.id;
    assert.match(text, /\*pbs\* · `mute` · :large_green_circle: \*open now\*/);
    assert.match(text, /Opened Sun 22 Nov 02:00 UTC, closes 03:30 UTC; late crashes count until 03:45 UTC, then the summary/);
    assert.match(text, /Your time \(Europe\/Berlin, from your Slack profile\): Sun 22 Nov 03:00 CET – 04:30 CET/);
    assert.ok(text.includes(`<http://alertmanager.test/#/silences/${id}|${id.slice(0, 8)}> until 03:45 UTC (active)`), text);
    assert.match(text, /pod=~"\(\?:kube-scheduler-\.\*\)\|/);
    assert.match(text, /Alerts annotated or muted in this window:\*\n• `kube-system\/kube-scheduler-talos-monitor`: known transient · 02:14 UTC · firing\n• `media\/plex-abc`: not a known-transient pod: investigate · 02:14 UTC · firing/);
    assertValid(r);
  });

  it('after the window: the alerts of the last window, and no silence', async () => {
    const services = testServices({ config: testConfig({ windows: [{ name: 'pbs', start: '02:00', end: '03:30', mode: 'mute' }] }), slack: fakeSlack(undefined).slack });
    let clock = new Date('2026-11-22T02:05:00.000Z');
    const silences = new RecordingSilences();
    const svc = new BackupWindowService({ services, store: new MemoryWindowStore(), silences, movers: new FixedMovers(), now: () => clock });
    const windows = () => svc;
    await svc.reconcile();
    await svc.annotate(crashEvent({ pod: 'etcd-talos', at: clock }));
    await svc.flush();
    clock = new Date('2026-11-22T03:45:00.005Z');
    await svc.reconcile();
    const r = await windowCommand({ windows })(cmd, ctxFor(services, new Date('2026-11-22T09:00:00.000Z')));
    const text = allText(r);
    assert.match(text, /\*Silences it owns:\* none \(it mutes only while the window is open\)/);
    assert.match(text, /in the last window\* \(Sun 22 Nov 02:00 UTC – 03:30 UTC\):\n• `kube-system\/etcd-talos`: known transient · 02:05 UTC/);
    assert.match(text, /Times in UTC because your Slack profile has no time zone/);
    assertValid(r);
  });

  it('several windows get a section each; a window in another zone shows its own zone too', async () => {
    const services = testServices({
      config: testConfig({ windows: [{ name: 'pbs', start: '02:00', end: '03:30' }, { name: 'nz', zone: 'Pacific/Auckland', days: ['sun'], start: '02:00', end: '03:30', mode: 'mute' }] }),
      slack: fakeSlack('UTC').slack,
    });
    const r = await windowCommand()(cmd, ctxFor(services, new Date('2026-09-26T13:30:00.000Z')));
    const text = allText(r);
    assert.equal(r.blocks.filter((b) => b.type === 'divider').length, 1);
    assert.match(text, /\*pbs\* · `annotate`/);
    assert.match(text, /\*nz\* · `mute` · :white_circle: closed\nNext: Sat 26 Sep 14:00 UTC – 14:30 UTC \(late crashes count until 14:45 UTC\)\.\nWindow's zone \(Pacific\/Auckland\): Sun 27 Sep 03:00 NZDT – 03:30 NZDT/);
    assert.match(text, /\*Silences it owns:\* none: `ALERTMANAGER_URL` is not set, so this mute window cannot mute anything/);
    assert.doesNotMatch(text, /Your time/, 'a UTC user needs no second line');
    assert.deepEqual(r.text.split('\n').map((l) => l.split(':')[0]), ['pbs', 'nz']);
    assertValid(r);
  });

  it('at the terminal uses the machine\'s zone', async () => {
    const before = process.env['TZ'];
    process.env['TZ'] = 'America/New_York';
    try {
      const services = testServices({ config: testConfig({}) });
      const r = await windowCommand()(cmd, ctxFor(services, new Date('2026-11-21T12:00:00.000Z'), 'terminal'));
      assert.match(allText(r), /Your time \(America\/New_York, from this machine\): Sat 21 Nov 21:00 EST – 22:30 EST/);
    } finally {
      if (before === undefined) delete process.env['TZ'];
      else process.env['TZ'] = before;
    }
  });

  it('with no windows configured says how to add one', async () => {
    const services = testServices({ config: testConfig({ windows: [] }) });
    const r = await windowCommand()(cmd, ctxFor(services, new Date()));
    assert.match(r.text, /No backup windows are configured/);
  });
});
