// The backup window's runtime with an injected clock and recording stand-ins: reconcile on
// start-up, mute silences never duplicated, annotations, and the close summary exactly once.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BackupWindowService } from '../../src/backup-window/service.ts';
import { MemoryWindowStore } from '../../src/backup-window/state.ts';
import { parseWindowMarker } from '../../src/backup-window/window-silence.ts';
import { renderBlocks } from '../../src/slack/render-blocks.ts';
import type { Block } from '../../src/reply.ts';
import { validateBlocks } from '../harness/slack/block-kit-validator.ts';
import {
  ALERTS_CHANNEL,
  crashEvent,
  FixedFiring,
  FixedMovers,
  ONCALL,
  RecordingSilences,
  TestLeadership,
  testConfig,
  windowStandIns,
} from './backup-window-fixtures.ts';

const pbs = (over: Record<string, unknown> = {}) => ({ name: 'pbs', zone: 'UTC', start: '02:00', end: '03:30', graceMinutes: 15, ...over });

function setup(opts: { windows?: Record<string, unknown>[]; store?: MemoryWindowStore; silences?: RecordingSilences; leader?: TestLeadership; firing?: FixedFiring; movers?: FixedMovers; escalate?: boolean } = {}) {
  let clock = new Date('2026-11-22T01:00:00.000Z');
  const config = testConfig({
    windows: opts.windows ?? [pbs()],
    alerts: { channel: ALERTS_CHANNEL, ...(opts.escalate === false ? {} : { escalate: ONCALL }) },
  });
  const { services, leadership, store, silences, poster, threads, movers } = windowStandIns({
    config,
    leadership: opts.leader,
    store: opts.store ?? new MemoryWindowStore({ now: () => clock }),
    silences: opts.silences,
    movers: opts.movers,
  });
  const firing = opts.firing;
  const make = () => new BackupWindowService({ services, store, silences, poster, threads, movers, ...(firing ? { firingAlerts: firing } : {}), now: () => clock });
  return {
    store,
    silences,
    poster,
    threads,
    movers,
    leadership,
    make,
    at(iso: string) {
      clock = new Date(iso);
      return clock;
    },
  };
}

function sectionText(blocks: Block[] | undefined): string {
  return (blocks ?? []).map((b) => ('text' in b ? b.text : 'elements' in b ? b.elements.join(' ') : '')).join('\n');
}

describe('mute windows own exactly one silence per instance', () => {
  it('creates it at open with the window\'s matchers and marker, and ends it at the end of the grace period', async () => {
    const t = setup({ windows: [pbs({ mode: 'mute', namespaces: ['kube-system'] })] });
    t.at('2026-11-22T02:00:00.000Z');
    await t.make().reconcile();
    const active = t.silences.active();
    assert.equal(active.length, 1);
    const s = active[0]!;
    assert.equal(s.createdBy, 'backup-bot');
    assert.equal(s.endsAt, '2026-11-22T03:45:00.000Z');
    assert.deepEqual(parseWindowMarker(s.comment)?.instanceId, 'pbs@2026-11-22T02:00:00.000Z');
    assert.deepEqual(
      s.matchers.map((m) => `${m.name}${m.isRegex ? '=~' : '='}${m.value}`),
      [
        'alertname=~KubePodCrashLooping|HomelabPodCrashLooping|PodCrashLooping',
        'pod=~(?:kube-scheduler-.*)|(?:kube-controller-manager-.*)|(?:kube-apiserver-.*)|(?:etcd-.*)',
        'namespace=~kube-system',
      ],
    );
  });

  it('a restart at 02:40 finds the silence instead of making another, and posts nothing', async () => {
    const t = setup({ windows: [pbs({ mode: 'mute' })] });
    t.at('2026-11-22T02:00:00.000Z');
    await t.make().reconcile();
    t.at('2026-11-22T02:40:00.000Z');
    const restarted = t.make();
    await restarted.reconcile('start-up');
    await restarted.reconcile('safety tick');
    assert.equal(t.silences.created, 1);
    assert.equal(t.silences.active().length, 1);
    assert.equal(t.poster.posts.length, 0);
  });

  it('a bot started at 02:40 (never ran before) acts as if the window had just opened', async () => {
    const t = setup({ windows: [pbs({ mode: 'mute' })] });
    t.at('2026-11-22T02:40:00.000Z');
    await t.make().reconcile('start-up');
    assert.equal(t.silences.active().length, 1);
    const rec = (await t.store.read())['pbs@2026-11-22T02:00:00.000Z'];
    assert.equal(rec?.openedAt, '2026-11-22T02:40:00.000Z');
    assert.equal(rec?.silence?.id, t.silences.active()[0]!.id);
  });

  it('replaces the silence when the window\'s configuration changes, new one first', async () => {
    const store = new MemoryWindowStore();
    const silences = new RecordingSilences();
    const a = setup({ windows: [pbs({ mode: 'mute' })], store, silences });
    a.at('2026-11-22T02:10:00.000Z');
    await a.make().reconcile();
    const first = silences.active()[0]!;
    const b = setup({ windows: [pbs({ mode: 'mute', transientPods: ['kube-scheduler-.*'] })], store, silences });
    b.at('2026-11-22T02:20:00.000Z');
    await b.make().reconcile();
    const active = silences.active();
    assert.equal(active.length, 1);
    assert.notEqual(active[0]!.id, first.id);
    assert.deepEqual(silences.expired, [first.id]);
    assert.equal(active[0]!.matchers.find((m) => m.name === 'pod')?.value, '(?:kube-scheduler-.*)');
  });

  it('switching the window to annotate expires its silence; a duplicate silence is expired too', async () => {
    const store = new MemoryWindowStore();
    const silences = new RecordingSilences();
    const a = setup({ windows: [pbs({ mode: 'mute' })], store, silences });
    a.at('2026-11-22T02:10:00.000Z');
    const svc = a.make();
    await svc.reconcile();
    // A second copy, as a crash between create and record could leave behind.
    const original = silences.active()[0]!;
    await silences.create({ ...original, startsAt: original.startsAt, endsAt: original.endsAt });
    await svc.reconcile();
    assert.equal(silences.active().length, 1);
    const b = setup({ windows: [pbs({ mode: 'annotate' })], store, silences });
    b.at('2026-11-22T02:20:00.000Z');
    await b.make().reconcile();
    assert.equal(silences.active().length, 0);
  });

  it('leaves another deployment\'s window silences alone', async () => {
    const t = setup({ windows: [pbs({ mode: 'mute' })] });
    await t.silences.create({ matchers: [], startsAt: new Date(), endsAt: new Date(), createdBy: 'backup-bot', comment: 'x [backup-bot window=nightly@2026-11-22T01:00:00.000Z cfg=0123456789ab]' });
    t.at('2026-11-22T02:00:00.000Z');
    await t.make().reconcile();
    assert.equal(t.silences.active().length, 2);
    assert.deepEqual(t.silences.expired, []);
  });

  it('a replica that is not the leader neither silences nor summarises', async () => {
    const t = setup({ windows: [pbs({ mode: 'mute' })], leader: new TestLeadership(false) });
    t.at('2026-11-22T02:10:00.000Z');
    await t.make().reconcile();
    t.at('2026-11-22T03:46:00.000Z');
    await t.make().reconcile();
    assert.equal(t.silences.created, 0);
    assert.equal(t.poster.posts.length, 0);
  });
});

describe('annotate: a crash-loop alert during a window', () => {
  it('for a known-transient pod says so, with the backup that is running as evidence', async () => {
    const movers = new FixedMovers({ running: [{ namespace: 'media', pod: 'volsync-src-plex-abcde', what: 'backup of media/plex', since: new Date('2026-11-22T02:04:00Z') }], pending: 0 });
    const t = setup({ movers });
    const svc = t.make();
    const blocks = await svc.annotate(crashEvent({ pod: 'kube-scheduler-talos-monitor', at: t.at('2026-11-22T02:41:00.000Z') }));
    const text = sectionText(blocks);
    assert.match(text, /Known transient during the pbs window \(02:00–03:30 UTC\)\*, expected to recover by 03:30 UTC/);
    assert.match(text, /backup of media\/plex running since 02:04 UTC/);
    assert.equal(movers.calls, 1);
    assert.deepEqual(validateBlocks(renderBlocks({ text: 'x', blocks: blocks!, visibility: 'channel' }).blocks), []);
    await svc.flush();
    const rec = (await t.store.read())['pbs@2026-11-22T02:00:00.000Z'];
    assert.equal(rec?.alerts['fp-kube-scheduler-talos-monitor']?.annotated?.verdict, 'transient');
  });

  it('for any other pod says "not a known-transient pod: investigate", and notes when no backup is running', async () => {
    const t = setup();
    const blocks = await t.make().annotate(crashEvent({ pod: 'plex-5d8c7b9f6d-abcde', namespace: 'media', at: t.at('2026-11-22T02:41:00.000Z') }));
    const text = sectionText(blocks);
    assert.match(text, /In the pbs backup window \(02:00–03:30 UTC\), but not a known-transient pod: investigate/);
    assert.match(text, /No VolSync mover is running right now \(checked 02:41 UTC\)/);
  });

  it('respects the window\'s namespaces', async () => {
    const t = setup({ windows: [pbs({ namespaces: ['kube-system'] })] });
    const text = sectionText(await t.make().annotate(crashEvent({ pod: 'etcd-backup-1', namespace: 'default', at: t.at('2026-11-22T02:41:00.000Z') })));
    assert.match(text, /not a known-transient pod: investigate/);
  });

  it('during the grace period still annotates, saying the window has ended', async () => {
    const t = setup();
    const text = sectionText(await t.make().annotate(crashEvent({ pod: 'kube-scheduler-x', at: t.at('2026-11-22T03:40:00.000Z') })));
    assert.match(text, /ended at 03:30 UTC; crashes until 03:45 UTC still count/);
  });

  it('outside every window adds nothing, and neither do resolved notifications', async () => {
    const t = setup();
    const svc = t.make();
    assert.equal(await svc.annotate(crashEvent({ pod: 'kube-scheduler-x', at: t.at('2026-11-22T03:45:00.000Z') })), undefined);
    assert.equal(await svc.annotate(crashEvent({ pod: 'kube-scheduler-x', at: t.at('2026-11-22T01:59:59.999Z') })), undefined);
    assert.equal(await svc.annotate(crashEvent({ pod: 'kube-scheduler-x', status: 'resolved', at: t.at('2026-11-22T02:30:00.000Z') })), undefined);
    assert.equal(t.movers.calls, 0);
  });

  it('a failing evidence check still annotates, saying what failed', async () => {
    const movers = new FixedMovers({ running: [], pending: 0, error: 'Cannot list VolSync mover pods: RBAC forbids it (403).' });
    const t = setup({ movers });
    const text = sectionText(await t.make().annotate(crashEvent({ pod: 'etcd-talos', at: t.at('2026-11-22T02:10:00.000Z') })));
    assert.match(text, /Known transient/);
    assert.match(text, /Could not check whether a backup is running: Cannot list VolSync mover pods: RBAC forbids it/);
  });
});

describe('the close summary', () => {
  async function nightWithTwoAlerts(t: ReturnType<typeof setup>) {
    const svc = t.make();
    await svc.reconcile();
    const scheduler = crashEvent({ pod: 'kube-scheduler-talos-monitor', at: t.at('2026-11-22T02:14:00.000Z') });
    const controller = crashEvent({ pod: 'kube-controller-manager-talos-monitor', at: t.at('2026-11-22T02:16:00.000Z') });
    for (const e of [scheduler, controller]) {
      await svc.annotate(e);
      svc.observe(e);
    }
    // The controller manager recovers at 03:05; the scheduler never does.
    svc.observe({ ...controller, status: 'resolved', endsAt: '2026-11-22T03:05:00.000Z', receivedAt: t.at('2026-11-22T03:06:00.000Z') });
    await svc.flush();
    return { scheduler, controller };
  }

  it('lists what crashed and what recovered, escalates what still fires, in the summary and in its thread', async () => {
    const t = setup();
    t.at('2026-11-22T02:00:00.000Z');
    const { scheduler } = await nightWithTwoAlerts(t);
    t.at('2026-11-22T03:30:00.000Z');
    await t.make().reconcile('end tick');
    assert.equal(t.poster.posts.length, 0, 'nothing before the grace period ends');
    t.at('2026-11-22T03:45:00.005Z');
    await t.make().reconcile('next window change');

    assert.equal(t.poster.posts.length, 1);
    const summary = t.poster.posts[0]!;
    assert.equal(summary.channel, ALERTS_CHANNEL);
    const text = sectionText(summary.reply.blocks);
    assert.match(text, /\*2\* crash-looped · \*1\* recovered · \*1\* still crash-looping/);
    assert.match(text, /Still crash-looping after the window: no longer transient.\* <!subteam\^S0ONCALL> please investigate:\n• `kube-system\/kube-scheduler-talos-monitor`/);
    assert.match(text, /Recovered:\*\n• `kube-system\/kube-controller-manager-talos-monitor` recovered at 03:05 UTC/);
    assert.deepEqual(validateBlocks(renderBlocks(summary.reply).blocks), []);

    assert.equal(t.threads.posts.length, 1);
    const thread = t.threads.posts[0]!;
    assert.deepEqual([thread.channel, thread.threadTs], [scheduler.channel, scheduler.threadTs]);
    assert.match(sectionText(thread.reply.blocks), /still crash-looping after the pbs backup window closed.*no longer a known transient\. Escalated to the on-call group in the window summary in <#C0ALERTS>/);
    assert.deepEqual(validateBlocks(renderBlocks(thread.reply).blocks), []);

    // Exactly once: more wake-ups, a restart, and another one after that.
    await t.make().reconcile('safety tick');
    t.at('2026-11-22T04:00:00.000Z');
    await t.make().reconcile('start-up');
    assert.equal(t.poster.posts.length, 1);
    assert.equal(t.threads.posts.length, 1);
    const rec = (await t.store.read())['pbs@2026-11-22T02:00:00.000Z'];
    assert.equal(rec?.summary?.state, 'posted');
    assert.equal(rec?.summary?.ts, summary.ts);
    assert.ok(rec?.alerts['fp-kube-scheduler-talos-monitor']?.escalatedAt);
  });

  it('after a restart in the window, includes what was observed before it and says when it started watching', async () => {
    const t = setup();
    t.at('2026-11-22T02:00:00.000Z');
    await nightWithTwoAlerts(t); // the first process dies here without stopping
    t.at('2026-11-22T02:40:00.000Z');
    const restarted = t.make();
    await restarted.reconcile('start-up');
    t.at('2026-11-22T03:45:00.005Z');
    await restarted.reconcile();
    assert.equal(t.poster.posts.length, 1);
    assert.match(sectionText(t.poster.posts[0]!.reply.blocks), /\*2\* crash-looped/);
  });

  it('takes Alertmanager\'s word over a "resolved" notification still on its way', async () => {
    const firing = new FixedFiring();
    const t = setup({ firing });
    t.at('2026-11-22T02:00:00.000Z');
    await nightWithTwoAlerts(t);
    // At close, Alertmanager no longer holds the scheduler's alert either.
    firing.alerts = [];
    t.at('2026-11-22T03:45:00.005Z');
    await t.make().reconcile();
    assert.match(sectionText(t.poster.posts[0]!.reply.blocks), /\*2\* recovered · \*0\* still crash-looping/);
    assert.equal(t.threads.posts.length, 0);
  });

  it('counts alerts a mute window silenced, and escalates the ones still firing at close', async () => {
    const firing = new FixedFiring();
    const t = setup({ windows: [pbs({ mode: 'mute' })], firing });
    t.at('2026-11-22T02:00:00.000Z');
    const svc = t.make();
    await svc.reconcile();
    const silenceId = t.silences.active()[0]!.id;
    const muted = (pod: string) => ({ fingerprint: `fp-${pod}`, labels: { alertname: 'KubePodCrashLooping', namespace: 'kube-system', pod }, startsAt: '2026-11-22T02:05:00Z', silencedBy: [silenceId] });
    firing.alerts = [muted('kube-scheduler-a'), muted('etcd-a')];
    t.at('2026-11-22T02:30:00.000Z');
    await svc.reconcile('safety tick');
    firing.alerts = [{ ...muted('kube-scheduler-a'), silencedBy: [] }]; // etcd recovered; the silence has just ended
    t.at('2026-11-22T03:45:00.005Z');
    await svc.reconcile();
    const text = sectionText(t.poster.posts[0]!.reply.blocks);
    assert.match(text, /\*2\* crash-looped · \*1\* recovered · \*1\* still crash-looping/);
    assert.match(text, /kube-scheduler-a`.*was muted by the window/);
    assert.deepEqual(t.silences.active(), []);
  });

  it('posts "no crash loops" for a quiet night, and mentions nobody', async () => {
    const t = setup();
    t.at('2026-11-22T02:00:00.000Z');
    await t.make().reconcile();
    t.at('2026-11-22T03:45:00.005Z');
    await t.make().reconcile();
    assert.equal(t.poster.posts.length, 1);
    assert.match(t.poster.posts[0]!.reply.text, /no crash loops/);
    assert.doesNotMatch(JSON.stringify(t.poster.posts[0]!.reply), /subteam/);
  });

  it('retries a summary Slack refused, then gives up after three attempts', async () => {
    const t = setup();
    t.at('2026-11-22T02:00:00.000Z');
    await t.make().reconcile();
    t.poster.failNext = 1;
    t.at('2026-11-22T03:45:00.005Z');
    await t.make().reconcile();
    assert.equal(t.poster.posts.length, 0);
    t.at('2026-11-22T03:50:00.000Z');
    await t.make().reconcile('safety tick');
    assert.equal(t.poster.posts.length, 1);

    const u = setup();
    u.at('2026-11-22T02:00:00.000Z');
    await u.make().reconcile();
    u.poster.failNext = 5;
    for (const minute of ['45:00.005', '50:00.000', '55:00.000', '59:00.000']) {
      u.at(`2026-11-22T03:${minute}Z`);
      await u.make().reconcile();
    }
    assert.equal(u.poster.failNext, 2, 'three attempts, no fourth');
    assert.equal((await u.store.read())['pbs@2026-11-22T02:00:00.000Z']?.summary?.state, 'failed');
  });

  it('does not post a summary half a day late; without a channel, the threads carry the mention', async () => {
    const t = setup();
    t.at('2026-11-22T02:00:00.000Z');
    await t.make().reconcile();
    t.at('2026-11-22T16:00:00.000Z');
    await t.make().reconcile('start-up');
    assert.equal(t.poster.posts.length, 0);
    assert.equal((await t.store.read())['pbs@2026-11-22T02:00:00.000Z']?.summary?.state, 'skipped');

    let clock = new Date('2026-11-22T02:10:00.000Z');
    // No silences: this service has no Alertmanager.
    const { services, store, threads, poster, movers } = windowStandIns({ config: testConfig({ windows: [pbs()], alerts: { escalate: ONCALL } }) });
    const svc = new BackupWindowService({ services, store, threads, poster, movers, now: () => clock });
    svc.observe(crashEvent({ pod: 'etcd-1', at: clock }));
    await svc.flush();
    clock = new Date('2026-11-22T03:45:00.005Z');
    await svc.reconcile();
    assert.equal(poster.posts.length, 0);
    assert.match(sectionText(threads.posts[0]?.reply.blocks), /Escalated: <!subteam\^S0ONCALL> please investigate/);
  });
});

describe('wake-ups', () => {
  it('nextWakeAt is the next start, end, or grace end, whichever comes first', () => {
    const t = setup();
    const svc = t.make();
    assert.equal(svc.nextWakeAt(new Date('2026-11-22T01:00:00Z'))?.toISOString(), '2026-11-22T02:00:00.000Z');
    assert.equal(svc.nextWakeAt(new Date('2026-11-22T02:00:00Z'))?.toISOString(), '2026-11-22T03:30:00.000Z');
    assert.equal(svc.nextWakeAt(new Date('2026-11-22T03:30:00Z'))?.toISOString(), '2026-11-22T03:45:00.000Z');
    assert.equal(svc.nextWakeAt(new Date('2026-11-22T03:45:00Z'))?.toISOString(), '2026-11-23T02:00:00.000Z');
  });
});
