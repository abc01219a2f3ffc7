/**
 * The security matrix (issue 10): every mutating path × every refusal, against the real bot process
 * in HTTP mode, the Slack stand-in, a real API server, real restic repositories with locks and a
 * real Alertmanager. Each applicable cell must be refused, leave an audit record (or, for a
 * replayed signed request, the bot's "rejected an unverified request" line), and change nothing:
 * no ReplicationSource spec touched, every restic lock still there, no silence created, extended
 * or lifted in Alertmanager, no Lease taken. Cells that cannot apply are listed with the reason.
 *
 * A cell is its set-up (`prepare`: the message with the button, a real silence, a real unlock to
 * replay, each waited for until it has settled) and the refused attempt alone. "Nothing changed"
 * compares the state taken after the set-up with the state after the refusal, re-read for a few
 * seconds so that a wrongly accepted action would have shown.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { stringify } from 'yaml';
import { ButtonSigner } from '../../src/alerts/button-values.ts';
import { COMMAND_BUTTON_ACTION } from '../../src/command/command-button.ts';
import type { Kube } from '../../src/kube/client.ts';
import { listLocks } from '../../src/restic/index.ts';
import type { ResticTarget } from '../../src/restic/index.ts';
import { alertmanagerSkipReason, startAlertmanager } from '../harness/alertmanager.ts';
import type { RunningAlertmanager } from '../harness/alertmanager.ts';
import { startHttpBot } from '../harness/bot-process.ts';
import type { BotProcess } from '../harness/bot-process.ts';
import { freePort } from '../harness/kube/free-port.ts';
import { kubeForTests, kubeUnavailableReason } from '../harness/kube/index.ts';
import type { KubeHarness } from '../harness/kube/index.ts';
import { deadLock, holdLock, killAllHolders, resticBinary, skipUnlessBuilt } from '../harness/restic.ts';
import { stopAll } from '../harness/stop-all.ts';
import { buttonLabelled, findAction } from '../harness/slack/payloads.ts';
import { startSlackStandIn } from '../harness/slack/slack-stand-in.ts';
import type { SlackStandIn, StoredMessage } from '../harness/slack/slack-stand-in.ts';
import type { HttpAck } from '../harness/slack/http-driver.ts';
import { deleteNamespace } from '../harness/kube-objects.ts';
import { createNamespace, createPod, createSource, getSource, kubeFor, orphanedLock, ResticScratch, sleep, sourceStatus, uniq } from './restic-cmd-fixtures.ts';

const skip = skipUnlessBuilt('restic') || alertmanagerSkipReason() || (await kubeUnavailableReason()) || false;
const bin = resticBinary() ?? 'restic';

/** The workspace: two operators (the configuration names them) and a member who is not one. */
const PEOPLE = [{ id: 'U0ALICE0SM', name: 'alice' }, { id: 'U0BOB000SM', name: 'bob' }, { id: 'U0VIEWERSM', name: 'victor' }];
const [ALICE, BOB, VIEWER] = PEOPLE.map((u) => u.id) as [string, string, string];
const SECRETS = {
  botToken: 'xoxb-4000000001-4000000002-securitymatrixtoken',
  signingSecret: 'security-matrix-signing-secret-5e2a',
  webhookToken: 'security-matrix-webhook-token-8c1d',
};
/** The bot's channel, and one it does not serve. */
const [CHANNEL, ELSEWHERE] = ['C0SECMATRX', 'C0NOTOURS1'];

const REFUSALS = ['non-operator', 'wrong channel', 'replayed request', 'replayed confirmation', 'expired confirmation', 'altered confirmation', 'same person approves twice', 'confirmation for another target'] as const;
type Refusal = (typeof REFUSALS)[number];
const PATHS = ['/backup run', '/restic unlock', '/restic unlock --remove-all', 'silence 1 h', 'silence 4 h', 'silence until the window ends', 'unsilence', 'VolSync unlock button', 'Unlock stale locks button', 'Remove all locks… button', '/backup verify'] as const;
type Path = (typeof PATHS)[number];

/** What one attempt did: the refusal the user saw (matched), and which audit evidence to expect. */
interface CellRun { shown: RegExp; replay?: boolean; ack?: HttpAck }
/** An applicable cell: its set-up, whose result the refused attempt gets. */
interface Live<C> { prepare: () => Promise<C>; attempt: (ctx: C) => Promise<CellRun> }
type Cell = { na: string } | Live<any>;
const cell = <C>(prepare: () => Promise<C>, attempt: (ctx: C) => Promise<CellRun>): Live<C> => ({ prepare, attempt });
/** A cell whose attempt needs no set-up. */
const direct = (attempt: () => Promise<CellRun>): Live<void> => ({ prepare: async () => undefined, attempt });

/**
 * How long the state is re-read after a refusal before "nothing changed" is concluded. Every
 * mutating handler writes (the trigger or unlock patch, restic unlock, the pause and the Lease of
 * --remove-all, the silence POST or expiry) before it answers, and a refusal is seen only once the
 * handler answered; a replayed request, answered 401 at once, would be handled within a second of
 * its ack. So a wrongly accepted action shows well within this.
 */
const SETTLE_MS = 3_000;
const LEADER_LEASE = 'backup-bot-leader';

const hhmm = (d: Date) => `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;

describe('security matrix: every mutating path × every refusal, on the real components', { skip, timeout: 1_200_000 }, () => {
  let harness: KubeHarness, kube: Kube, slack: SlackStandIn, am: RunningAlertmanager, bot: BotProcess;
  const ns = uniq('secmx');
  const appNs = uniq('secmx-app');
  let scratch: ResticScratch;
  const repos: Record<string, ResticTarget> = {};
  const signer = new ButtonSigner(SECRETS.botToken);

  async function repoFor(name: string): Promise<void> {
    repos[name] = (await scratch.sourceWithRepository(name)).target;
  }
  const orphaned = (name: string) => orphanedLock(kube, ns, name, repos[name]!, uniq(`volsync-src-${name}`));

  before(async () => {
    harness = await kubeForTests();
    kube = kubeFor(harness.kubeconfigPath);
    await createNamespace(kube, ns);
    await createNamespace(kube, appNs);
    scratch = new ResticScratch(kube, ns);
    for (const name of ['app', 'other']) await createSource(kube, ns, name, { secret: `${name}-volsync-secret` });
    // plex: a stale, an orphaned and a live lock (two approvers needed); sonarr and radarr: one
    // orphaned lock (one approver); lidarr: none yet (its replayed-unlock cell leaves a stale one).
    await repoFor('plex');
    await deadLock(repos['plex']!);
    await orphaned('plex');
    await createPod(kube, ns, 'restic-shell', 'Running');
    await holdLock(repos['plex']!, { hostname: 'restic-shell' });
    for (const name of ['sonarr', 'radarr']) {
      await repoFor(name);
      await orphaned(name);
    }
    await repoFor('lidarr');

    const now = new Date();
    const port = await freePort();
    am = await startAlertmanager({ webhookUrl: `http://127.0.0.1:${port}/alertmanager`, webhookToken: SECRETS.webhookToken, groupWait: '1s', groupInterval: '2s', groupBy: ['alertname', 'namespace', 'pod'] });
    const config = join(mkdtempSync(join(tmpdir(), 'bb-secmx-')), 'backup-bot.yaml');
    writeFileSync(config, stringify({
      slack: { channels: [CHANNEL], operators: { users: [ALICE, BOB] } },
      alerts: { channel: CHANNEL },
      // A window open now, so the "until the window ends" button is offered.
      windows: [{ name: 'pbs', zone: 'UTC', days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: hhmm(new Date(now.getTime() - 10 * 60_000)), end: hhmm(new Date(now.getTime() + 50 * 60_000)), transientPods: ['kube-scheduler-.*'], namespaces: [appNs] }],
      restic: { confirmTimeoutMinutes: 1 },
      // The matrix counts what each request changed; incidents about the shared server's sources are not among them.
      watch: { enabled: false },
    }));
    slack = await startSlackStandIn({ botToken: SECRETS.botToken, signingSecret: SECRETS.signingSecret, users: PEOPLE });
    bot = await startHttpBot(slack, {
      KUBECONFIG: harness.kubeconfigPath, BACKUP_BOT_CONFIG: config, POD_NAMESPACE: ns, RESTIC_BIN: bin, PORT: String(port),
      ALERTMANAGER_URL: am.url, ALERTMANAGER_WEBHOOK_TOKEN: SECRETS.webhookToken,
    });
  }, { timeout: 300_000 });

  after(async () => {
    await stopAll(killAllHolders, bot, am, slack, scratch, () => deleteNamespace(kube, appNs), harness);
  });

  // ---- what "nothing changed" means -------------------------------------------------------------
  /** Everything a mutating path could change, by section and then by object. */
  type State = Record<'specs' | 'annotations' | 'locks' | 'silences' | 'leases', Record<string, unknown>>;
  async function state(): Promise<State> {
    const names = ['app', 'other', ...Object.keys(repos)];
    const [sources, lockLists, silences, leases] = await Promise.all([
      Promise.all(names.map((name) => getSource(kube, ns, name))),
      Promise.all(Object.values(repos).map((target) => listLocks(target, { bin }))),
      am.silences().list(),
      kube.coordination.listNamespacedLease({ namespace: ns }),
    ]);
    return {
      // Specs only: trigger.manual (/backup run), paused (--remove-all), restic.unlock (the VolSync
      // button). Statuses are left out: the test itself writes radarr's, standing in for VolSync.
      specs: Object.fromEntries(names.map((name, i) => [name, sources[i]!.spec])),
      // And the annotations: the pause of --remove-all marks the source (backup-bot/paused-by), its resume unmarks it.
      annotations: Object.fromEntries(names.map((name, i) => [name, (sources[i] as { metadata?: { annotations?: unknown } }).metadata?.annotations ?? {}])),
      // A lock by who holds it, not by its ID: the live holder's restic refreshes its lock every 5
      // minutes, which writes the same lock again under a new ID and time.
      locks: Object.fromEntries(Object.keys(repos).map((name, i) => [name, lockLists[i]!.map((l) => `${l.hostname} pid ${l.pid}${l.exclusive ? ' exclusive' : ''}`).sort()])),
      // Every silence, expired ones too: a wrongly accepted silence adds one or moves an existing
      // one's end, a wrongly accepted unsilence turns one to "expired" and moves its end to now.
      silences: Object.fromEntries(silences.map((x) => [x.id, { state: x.status.state, matchers: x.matchers, startsAt: x.startsAt, endsAt: x.endsAt, updatedAt: x.updatedAt }])),
      // Every Lease in the namespace (the repository Leases of --remove-all are taken there). The
      // leader-election Lease's renewTime moves every few seconds on its own: only that is left out.
      leases: Object.fromEntries((leases.items ?? []).map((l) => [l.metadata?.name ?? '', l.metadata?.name === LEADER_LEASE ? { ...l.spec, renewTime: undefined } : l.spec])),
    };
  }

  /** What differs between two states, one `section.object: before → after` line each (empty: nothing). */
  function differences(a: State, b: State): string[] {
    const out: string[] = [];
    for (const section of Object.keys(a) as Array<keyof State>) {
      for (const key of new Set([...Object.keys(a[section]), ...Object.keys(b[section])])) {
        const [x, y] = [JSON.stringify(a[section][key]), JSON.stringify(b[section][key])];
        if (x !== y) out.push(`${section}.${key}: ${x ?? 'absent'} → ${y ?? 'absent'}`);
      }
    }
    return out;
  }

  /** What changed since `baseline` once a wrongly accepted action would have shown: re-read for SETTLE_MS, up to the first difference. */
  async function changesSince(baseline: State): Promise<string[]> {
    const until = Date.now() + SETTLE_MS;
    for (;;) {
      const changes = differences(baseline, await state());
      if (changes.length > 0 || Date.now() >= until) return changes;
      await sleep(500);
    }
  }

  // ---- driving the bot as a user would ---------------------------------------------------------
  const refusalAudits = () => bot.lines.filter((l) => /"audit":true/.test(l) && /"outcome":"(denied|refused|expired)"/.test(l)).length;
  const replayLines = () => bot.lines.filter((l) => /"reason":"replayed"/.test(l)).length;

  /** Requests sent (each one the bot handles leaves an audit record). */
  let sent = 0;
  const auditRecords = () => bot.lines.filter((l) => /"audit":true/.test(l)).length;
  async function slash(command: string, text: string, user: string, channel = CHANNEL) {
    sent += 1;
    return slack.sendSlashCommandHttp({ command, text, user_id: user, channel_id: channel });
  }
  async function click(actionId: string, message: StoredMessage | { ts: string; thread_ts?: string; blocks?: unknown[] }, user: string, o: { value?: string; channel?: string } = {}) {
    sent += 1;
    return slack.sendInteractionHttp({ blockAction: { action_id: actionId, message, user_id: user, channel_id: o.channel ?? CHANNEL, ...(o.value !== undefined ? { value: o.value } : {}) } });
  }
  const valueOf = (m: { blocks?: unknown[] }, actionId: string): string => String(findAction(m.blocks, actionId)!.element['value']);

  /** A button of a /restic locks answer: read-only to ask (no audit record), the value of the button labelled `label`. */
  async function locksButton(name: string, label: string): Promise<string> {
    const asked = await slack.sendSlashCommandHttp({ command: '/restic', text: `locks ${ns} ${name}`, user_id: VIEWER, channel_id: CHANNEL });
    const res = await slack.replyTo(asked, 60_000, `/restic locks ${name}`);
    return buttonLabelled({ blocks: res.body['blocks'] as unknown[] }, label).value;
  }
  /** A click on a command button of an ephemeral answer: Slack sends no message with it. */
  async function press(value: string, user: string, channel = CHANNEL) {
    sent += 1;
    return slack.sendInteractionHttp({ blockAction: { action_id: COMMAND_BUTTON_ACTION, value, user_id: user, channel_id: channel, is_ephemeral: true } });
  }
  /** The cells of a command button, which runs its command as typed: who clicks, where, and a replay of a click that ran. */
  function commandButtonCells(p: Path, label: string, name: string, ran: () => Promise<void>): Record<Refusal, Cell> {
    const na = { na: `the ${label} button runs its command as typed; the command's own confirmation has its own row` };
    return {
      'non-operator': cell(() => locksButton(name, label), async (value) => ({ shown: only, ack: await press(value, VIEWER) })),
      'wrong channel': cell(() => locksButton(name, label), async (value) => ({ shown: channelOnly, ack: await press(value, ALICE, ELSEWHERE) })),
      'replayed request': cell(ran, () => replay(p)),
      'replayed confirmation': na, 'expired confirmation': na, 'altered confirmation': na, 'same person approves twice': na, 'confirmation for another target': na,
    };
  }

  /** A slash command whose answer is a channel message with `actionId` on it. */
  async function requestMessage(command: string, text: string, user: string, actionId: string, match: RegExp): Promise<StoredMessage> {
    const before = slack.messages(CHANNEL).length;
    await slash(command, text, user);
    return slack.waitFor(() => slack.messages(CHANNEL).slice(before).find((m) => findAction(m.blocks as unknown[], actionId) && match.test(JSON.stringify(m.blocks))), 60_000, `${command} ${text}`);
  }
  const backupRun = (name: string) => requestMessage('/backup', `run ${ns} ${name}`, ALICE, 'bb:backup:run', new RegExp(`${ns}/${name}`));
  const verifyOffer = (name: string) => requestMessage('/backup', `verify ${ns} ${name}`, ALICE, 'bb:backup:verify', new RegExp(`${ns}/${name}`));
  const removeAll = (name: string) => requestMessage('/restic', `unlock ${ns} ${name} --remove-all`, ALICE, 'bb:restic:remove-all', new RegExp(`${ns}/${name}`));
  const volsyncOffer = (name: string) => requestMessage('/restic', `unlock ${ns} ${name}`, ALICE, 'bb:restic:volsync-unlock', new RegExp(`${ns}/${name}`));

  // Silence buttons live on the diagnosis in an alert's thread.
  const alertPods: Record<string, StoredMessage> = {};
  async function diagnosisFor(pod: string): Promise<StoredMessage> {
    if (alertPods[pod]) return alertPods[pod];
    const now = Date.now();
    await am.postAlerts([{ labels: { alertname: 'KubePodCrashLooping', namespace: appNs, pod, container: 'app', severity: 'warning' }, annotations: { summary: 'Pod is crash looping.' }, startsAt: new Date(now - 600_000).toISOString(), endsAt: new Date(now + 3600_000).toISOString() }]);
    const diag = await slack.waitFor(() => slack.allMessages(CHANNEL).find((m) => m.thread_ts && m.ts !== m.thread_ts && m.text.includes(pod) && /Silence 1 h/.test(JSON.stringify(m.blocks))), 30_000, `the diagnosis of ${pod}`);
    alertPods[pod] = diag;
    return diag;
  }
  const decode = (value: string) => JSON.parse(Buffer.from(value.split('.')[0]!, 'base64url').toString()) as Record<string, any>;

  /** A note with an Unsilence button: an operator silences a second alert for real (set-up, made once). */
  let unsilenceNote: StoredMessage | undefined;
  async function silencedNote(): Promise<StoredMessage> {
    if (unsilenceNote) return unsilenceNote;
    const diag = await diagnosisFor('web-5c6d7e8f9-uuuuu');
    const b = buttonLabelled(diag, /^Silence 1 h/);
    await click(b.actionId, diag, ALICE);
    unsilenceNote = await slack.waitFor(() => slack.threadReplies(CHANNEL, diag.thread_ts!).find((m) => findAction(m.blocks as unknown[], 'bb:alerts:unsilence')), 20_000, 'the silenced note');
    return unsilenceNote;
  }

  // The last signed request of each path, replayed by its "replayed request" cell.
  const lastRequest: Partial<Record<Path, HttpAck>> = {};
  const remember = (p: Path, ack: HttpAck) => { lastRequest[p] = ack; return ack; };
  const replay = async (p: Path): Promise<CellRun> => {
    const ack = await slack.replayHttp(lastRequest[p]!.request);
    assert.equal(ack.status, 401, `${p}: a replayed signed request is answered 401`);
    return { shown: /^$/, replay: true, ack };
  };

  // Confirmations made at the start whose cells run once they have expired (confirmTimeoutMinutes: 1).
  const expiring: Partial<Record<Path, StoredMessage>> = {};
  let expiringSince = 0;

  const only = /Only operators can do that/;
  const channelOnly = /only|not allowed|answer commands in/i;

  const matrix: Record<Path, Record<Refusal, Cell>> = {
    '/backup run': confirmedCommandCells('/backup run', 'run', 'app', 'other', { offer: () => volsyncOffer('radarr'), actionId: 'bb:restic:volsync-unlock' }),
    '/restic unlock': {
      // plex has a stale lock, which a wrongly accepted plain unlock would remove.
      'non-operator': direct(async () => ({ shown: only, ack: await slash('/restic', `unlock ${ns} plex`, VIEWER) })),
      'wrong channel': direct(async () => ({ shown: /answer commands in/, ack: await slash('/restic', `unlock ${ns} plex`, ALICE, ELSEWHERE) })),
      'replayed request': cell(async () => {
        // A real plain unlock of lidarr's lock-free repository; then a stale lock (this host, a
        // dead process) is left in it, which a wrongly accepted replay would remove.
        const first = await slash('/restic', `unlock ${ns} lidarr`, ALICE);
        await bot.waitForLine(/"audit":true.*"action":"\/restic unlock".*"target":"secmx-[0-9a-f]+\/lidarr"/);
        lastRequest['/restic unlock'] = first;
        await deadLock(repos['lidarr']!);
      }, () => replay('/restic unlock')),
      'replayed confirmation': { na: 'plain /restic unlock removes only stale locks and asks no confirmation' },
      'expired confirmation': { na: 'plain /restic unlock asks no confirmation' },
      'altered confirmation': { na: 'plain /restic unlock asks no confirmation' },
      'same person approves twice': { na: 'plain /restic unlock needs no approval' },
      'confirmation for another target': { na: 'plain /restic unlock asks no confirmation' },
    },
    // The clicks go to radarr's requests (one approval, so an accepted click would remove its lock)
    // except where two approvers are the point (plex).
    '/restic unlock --remove-all': {
      'non-operator': direct(async () => ({ shown: only, ack: await slash('/restic', `unlock ${ns} plex --remove-all`, VIEWER) })),
      'wrong channel': cell(() => removeAll('radarr'), async (m) => ({ shown: channelOnly, ack: remember('/restic unlock --remove-all', await click('bb:restic:remove-all', m, ALICE, { channel: ELSEWHERE })) })),
      'replayed request': direct(() => replay('/restic unlock --remove-all')),
      'replayed confirmation': cell(async () => {
        // sonarr needs one approval: Bob's confirmation removes its lock for real, and a new
        // orphaned lock is left, which a wrongly accepted second click would remove.
        const m = await removeAll('sonarr');
        const original = structuredClone(m);
        await click('bb:restic:remove-all', m, BOB);
        await slack.waitFor(() => slack.threadReplies(CHANNEL, m.ts).find((r) => /remove-all on .*: /.test(r.text)), 90_000, 'the sonarr outcome');
        await slack.waitFor(async () => (await getSource(kube, ns, 'sonarr')).spec.paused === false || undefined, 15_000, 'sonarr resumed');
        await slack.waitFor(async () => ((await kube.coordination.listNamespacedLease({ namespace: ns })).items ?? []).every((l) => l.metadata?.name === LEADER_LEASE) || undefined, 15_000, 'the lease released');
        await orphaned('sonarr');
        return original;
      }, async (original) => ({ shown: /works once/, ack: await click('bb:restic:remove-all', original, BOB) })),
      'expired confirmation': direct(async () => ({ shown: /expired/, ack: await click('bb:restic:remove-all', expiring['/restic unlock --remove-all']!, ALICE) })),
      'altered confirmation': cell(() => removeAll('radarr'), async (m) => {
        const [id] = valueOf(m, 'bb:restic:remove-all').split('.');
        return { shown: /does not match this request/, ack: await click('bb:restic:remove-all', m, BOB, { value: `${id}.${'0'.repeat(64)}` }) };
      }),
      'same person approves twice': cell(async () => {
        const m = await removeAll('plex');
        await click('bb:restic:remove-all', m, ALICE);
        await slack.waitFor(() => slack.threadReplies(CHANNEL, m.ts).find((r) => /Waiting for a second operator/.test(r.text)), 20_000, 'the first approval');
        return m;
      }, async (m) => ({ shown: /already approved this/, ack: await click('bb:restic:remove-all', m, ALICE) })),
      'confirmation for another target': cell(async () => {
        // radarr's confirmation carrying the evidence digest of plex's request.
        const radarr = await removeAll('radarr');
        const plex = await removeAll('plex');
        const [id] = valueOf(radarr, 'bb:restic:remove-all').split('.');
        const [, digest] = valueOf(plex, 'bb:restic:remove-all').split('.');
        return { radarr, value: `${id}.${digest}` };
      }, async ({ radarr, value }) => ({ shown: /does not match this request/, ack: await click('bb:restic:remove-all', radarr, BOB, { value }) })),
    },
    'silence 1 h': silenceCells('silence 1 h', /^Silence 1 h/),
    'silence 4 h': silenceCells('silence 4 h', /^Silence 4 h/),
    'silence until the window ends': silenceCells('silence until the window ends', /^Silence until/),
    'unsilence': {
      'non-operator': cell(silencedNote, async (n) => ({ shown: only, ack: remember('unsilence', await click('bb:alerts:unsilence', n, VIEWER)) })),
      'wrong channel': cell(silencedNote, async (n) => ({ shown: channelOnly, ack: await click('bb:alerts:unsilence', n, ALICE, { channel: ELSEWHERE }) })),
      'replayed request': direct(() => replay('unsilence')),
      'replayed confirmation': { na: 'the Unsilence button is no confirmation: a second click expires an already expired silence (idempotent)' },
      'expired confirmation': cell(silencedNote, async (n) => {
        const v = decode(valueOf(n, 'bb:alerts:unsilence'));
        return { shown: /expired/, ack: await click('bb:alerts:unsilence', n, ALICE, { value: signer.encode({ ...v, x: Math.floor(Date.now() / 1000) - 60 } as never) }) };
      }),
      'altered confirmation': cell(silencedNote, async (n) => {
        const [body, mac] = valueOf(n, 'bb:alerts:unsilence').split('.');
        const v = JSON.parse(Buffer.from(body!, 'base64url').toString());
        return { shown: /not one this bot made/, ack: await click('bb:alerts:unsilence', n, ALICE, { value: `${Buffer.from(JSON.stringify({ ...v, s: '00000000-0000-0000-0000-000000000000' })).toString('base64url')}.${mac}` }) };
      }),
      'same person approves twice': { na: 'one operator lifts a silence; there is no second approval' },
      'confirmation for another target': cell(async () => {
        // A silence button's signed value (another alert's) on the Unsilence button.
        const diag = await diagnosisFor('api-1a2b3c4d5-sssss');
        return { n: await silencedNote(), value: buttonLabelled(diag, /^Silence 1 h/).value };
      }, async ({ n, value }) => ({ shown: /not one this bot made/, ack: await click('bb:alerts:unsilence', n, ALICE, { value }) })),
    },
    'VolSync unlock button': {
      ...confirmButtonCells('VolSync unlock button', 'bb:restic:volsync-unlock', () => volsyncOffer('radarr'), { offer: () => backupRun('other'), actionId: 'bb:backup:run' }),
      'wrong channel': cell(() => volsyncOffer('radarr'), async (m) => ({ shown: channelOnly, ack: await click('bb:restic:volsync-unlock', m, ALICE, { channel: ELSEWHERE }) })),
      'replayed confirmation': cell(async () => {
        // Answered once for real (spec.restic.unlock is set), then the same click again.
        const m = await volsyncOffer('radarr');
        const original = structuredClone(m);
        await click('bb:restic:volsync-unlock', m, ALICE);
        const token = await slack.waitFor(async () => (await getSource(kube, ns, 'radarr')).spec.restic?.unlock as string | undefined, 20_000, 'spec.restic.unlock set');
        // Play VolSync (no controller runs here): the mover ran the unlock. The bot's follow then
        // ends and removes the manual trigger; only after that has the set-up settled.
        await sourceStatus(kube, ns, 'radarr', { lastManualSync: token, restic: { lastUnlocked: token } });
        await slack.waitFor(async () => ((await getSource(kube, ns, 'radarr')).spec.trigger as { manual?: string } | undefined)?.manual === undefined || undefined, 90_000, 'the bot removed the manual trigger after the unlock');
        return original;
      }, async (original) => ({ shown: /works once/, ack: await click('bb:restic:volsync-unlock', original, BOB) })),
      'same person approves twice': { na: 'one operator confirms an unlock through VolSync; there is no second approval' },
    },
    // A verify changes nothing it could be caught changing; what matters is that it is refused and audited.
    '/backup verify': confirmedCommandCells('/backup verify', 'verify', 'lidarr', 'lidarr', { offer: () => backupRun('other'), actionId: 'bb:backup:run' }),
    // plex has a stale lock (plain unlock would remove it) and an orphaned and a live one (remove-all's evidence).
    'Unlock stale locks button': commandButtonCells('Unlock stale locks button', 'Unlock stale locks', 'plex', async () => {
      // A click that ran for real: lidarr's stale lock removed; then a new one, which a wrongly accepted replay would remove.
      await deadLock(repos['lidarr']!);
      lastRequest['Unlock stale locks button'] = await press(`/restic unlock ${ns} lidarr`, ALICE);
      await slack.waitFor(async () => (await listLocks(repos['lidarr']!, { bin })).length === 0 || undefined, 60_000, 'lidarr unlocked by the button');
      await bot.waitForLine(/"audit":true.*"action":"\/restic unlock".*"target":"secmx-[0-9a-f]+\/lidarr".*"outcome":"succeeded"/);
      await deadLock(repos['lidarr']!);
    }),
    'Remove all locks… button': commandButtonCells('Remove all locks… button', 'Remove all locks…', 'plex', async () => {
      // A click that ran for real: it only asks (the evidence and a confirmation); its replay must not ask again.
      const before = slack.messages(CHANNEL).length;
      lastRequest['Remove all locks… button'] = await press(`/restic unlock ${ns} radarr --remove-all`, ALICE);
      await slack.waitFor(() => slack.messages(CHANNEL).slice(before).find((m) => findAction(m.blocks as unknown[], 'bb:restic:remove-all') && /radarr/.test(JSON.stringify(m.blocks))), 60_000, 'the confirmation the button asked for');
    }),
  };

  /**
   * The cells a one-operator confirmation button (/backup run, the VolSync unlock) has in common:
   * a click by a non-operator, its replay, the expired, the altered, and a value made for the
   * other button's request.
   */
  function confirmButtonCells(p: Path, actionId: string, offer: () => Promise<StoredMessage>, other: { offer: () => Promise<StoredMessage>; actionId: string }) {
    return {
      'non-operator': cell(offer, async (m) => ({ shown: only, ack: remember(p, await click(actionId, m, VIEWER)) })),
      'replayed request': direct(() => replay(p)),
      'expired confirmation': direct(async () => ({ shown: /expired/, ack: await click(actionId, expiring[p]!, ALICE) })),
      'altered confirmation': cell(offer, async (m) => ({ shown: /not valid|unknown/, ack: await click(actionId, m, ALICE, { value: `${valueOf(m, actionId).slice(0, -4)}AAAA` }) })),
      'confirmation for another target': cell(async () => ({ m: await offer(), value: valueOf(await other.offer(), other.actionId) }), async ({ m, value }) => ({ shown: /does not match this request/, ack: await click(actionId, m, ALICE, { value }) })),
    } satisfies Partial<Record<Refusal, Cell>>;
  }

  /**
   * A `/backup <verb>` one operator confirms (run, verify): the confirmation button's cells, the
   * command from the wrong channel, and a request cancelled for real whose confirmation is clicked.
   * `name` is the source asked about, `cancelled` the one whose request is cancelled first.
   */
  function confirmedCommandCells(p: Path, verb: 'run' | 'verify', name: string, cancelled: string, other: { offer: () => Promise<StoredMessage>; actionId: string }): Record<Refusal, Cell> {
    const actionId = `bb:backup:${verb}`;
    const offer = (n: string) => requestMessage('/backup', `${verb} ${ns} ${n}`, ALICE, actionId, new RegExp(`${ns}/${n}`));
    return {
      ...confirmButtonCells(p, actionId, () => offer(name), other),
      'wrong channel': direct(async () => ({ shown: /answer commands in/, ack: await slash('/backup', `${verb} ${ns} ${name}`, ALICE, ELSEWHERE) })),
      'replayed confirmation': cell(async () => {
        const m = await offer(cancelled);
        const original = structuredClone(m);
        await click(`${actionId}-cancel`, m, BOB);
        await slack.waitFor(() => /Cancelled/.test(slack.message(CHANNEL, m.ts)?.text ?? ''), 15_000, 'the cancellation');
        return original;
      }, async (original) => ({ shown: /request was cancelled/, ack: await click(actionId, original, ALICE) })),
      'same person approves twice': { na: `one operator confirms a ${p}; there is no second approval` },
    };
  }

  function silenceCells(p: Path, label: RegExp): Record<Refusal, Cell> {
    const pod = 'kube-scheduler-node-a';
    const button = async () => { const d = await diagnosisFor(pod); return { d, b: buttonLabelled(d, label) }; };
    return {
      'non-operator': cell(button, async ({ d, b }) => ({ shown: only, ack: remember(p, await click(b.actionId, d, VIEWER)) })),
      'wrong channel': cell(button, async ({ d, b }) => ({ shown: channelOnly, ack: await click(b.actionId, d, ALICE, { channel: ELSEWHERE }) })),
      'replayed request': direct(() => replay(p)),
      'replayed confirmation': { na: 'a silence button is no confirmation: a second click reuses the silence the first made (idempotent, pinned in alerts-alertmanager and silences tests)' },
      'expired confirmation': cell(button, async ({ d, b }) => ({ shown: /expired/, ack: await click(b.actionId, d, ALICE, { value: signer.encode({ ...decode(b.value), x: Math.floor(Date.now() / 1000) - 60 } as never) }) })),
      'altered confirmation': cell(button, async ({ d, b }) => {
        const [body, mac] = b.value.split('.');
        const v = JSON.parse(Buffer.from(body!, 'base64url').toString());
        return { shown: /not one this bot made/, ack: await click(b.actionId, d, ALICE, { value: `${Buffer.from(JSON.stringify({ ...v, l: { ...v.l, pod: 'kube-scheduler-.*' } })).toString('base64url')}.${mac}` }) };
      }),
      'same person approves twice': { na: 'one operator silences; there is no second approval' },
      // The Unsilence button's signed value (for another silence) on this silence button.
      'confirmation for another target': cell(async () => ({ ...(await button()), value: valueOf(await silencedNote(), 'bb:alerts:unsilence') }), async ({ d, b, value }) => ({ shown: /not one this bot made/, ack: await click(b.actionId, d, ALICE, { value }) })),
    };
  }

  test('every applicable cell is refused, audited, and changes nothing', { timeout: 1_200_000 }, async () => {
    // Confirmations for the expiry cells, made first so they have expired when their cells run.
    expiring['/backup run'] = await backupRun('app');
    expiring['/backup verify'] = await verifyOffer('lidarr');
    expiring['/restic unlock --remove-all'] = await removeAll('radarr');
    expiring['VolSync unlock button'] = await volsyncOffer('radarr');
    expiringSince = Date.now();

    const results: Array<{ path: Path; refusal: Refusal; refused: boolean; audited: boolean; changed: boolean; why?: string }> = [];
    // The expiry cells wait for the expiry; the VolSync confirmation answered for real goes last of all.
    const order = (p: Path, r: Refusal) => (r === 'expired confirmation' ? 1 : 0) + (p === 'VolSync unlock button' && r === 'replayed confirmation' ? 2 : 0);
    const cells = PATHS.flatMap((path) => REFUSALS.map((refusal) => ({ path, refusal, cell: matrix[path][refusal] }))).sort((a, b) => order(a.path, a.refusal) - order(b.path, b.refusal));
    for (const { path, refusal, cell } of cells) {
      if ('na' in cell) continue;
      if (refusal === 'expired confirmation') {
        const wait = expiringSince + 62_000 - Date.now();
        if (wait > 0) await sleep(wait);
      }
      let refused = false;
      let audited = false;
      let changed = false;
      let why: string | undefined;
      let baseline: State | undefined;
      try {
        const ctx = await cell.prepare();
        baseline = await state();
        const audits = refusalAudits();
        const replays = replayLines();
        const responsesBefore = slack.responses().length;
        const [sentBefore, recordsBefore] = [sent, auditRecords()];
        const r = await cell.attempt(ctx);
        if (r.replay) {
          refused = r.ack?.status === 401;
          audited = await slack.waitFor(() => replayLines() > replays || undefined, 10_000, 'the replay logged').then(() => true, () => false);
        } else {
          const shown = await slack.waitFor(() => slack.responses().slice(responsesBefore).find((x) => x.via === 'response_url' && r.shown.test(JSON.stringify(x.body))), 20_000, `${path} × ${refusal}: the refusal`).then((x) => x, () => undefined);
          refused = Boolean(shown);
          if (!refused) why = `no reply matching ${r.shown}; got ${JSON.stringify(slack.responses().slice(responsesBefore).map((x) => x.body?.text)).slice(0, 400)}`;
          audited = await slack.waitFor(() => refusalAudits() > audits || undefined, 10_000, 'the audit record').then(() => true, () => false);
          // Every request the attempt sent has been handled, not only the one refused, before the state is compared.
          await slack.waitFor(() => auditRecords() - recordsBefore >= sent - sentBefore || undefined, 20_000, 'every request of the attempt handled').catch(() => undefined);
        }
      } catch (err) {
        why = (err as Error).message.slice(0, 400);
      }
      if (baseline !== undefined) {
        const changes = await changesSince(baseline);
        changed = changes.length > 0;
        if (changed) why = [why, ...changes].filter(Boolean).join('; ').slice(0, 3000);
      }
      results.push({ path, refusal, refused, audited, changed, ...(why ? { why } : {}) });
    }

    const rows = PATHS.map((p) => `${p.padEnd(32)} ${REFUSALS.map((r) => {
      const c = matrix[p][r];
      if ('na' in c) return 'n/a';
      const x = results.find((y) => y.path === p && y.refusal === r)!;
      return x.refused && x.audited && !x.changed ? 'refused' : `FAIL(${[!x.refused && 'not refused', !x.audited && 'not audited', x.changed && 'changed'].filter(Boolean).join(',')})`;
    }).join(' | ')}`);
    console.log(`security matrix (columns: ${REFUSALS.join(' | ')}):\n${rows.join('\n')}`);
    for (const p of PATHS) for (const r of REFUSALS) { const c = matrix[p][r]; if ('na' in c) console.log(`not applicable: ${p} × ${r}: ${c.na}`); }
    for (const x of results) if (x.why) console.log(`${x.path} × ${x.refusal}: ${x.why}`);
    const failures = results.filter((x) => !x.refused || !x.audited || x.changed);
    const k = results.length;
    const line = `security matrix: ${PATHS.length} paths × ${REFUSALS.length} refusals = ${k} cells applicable, ${results.filter((x) => x.refused).length} refused, ${results.filter((x) => x.audited).length} audited, ${results.filter((x) => x.changed).length} changed`;
    console.log(line);
    assert.deepEqual(failures, [], 'every applicable cell refused, audited, and nothing changed');
    assert.match(line, new RegExp(`= ${k} cells applicable, ${k} refused, ${k} audited, 0 changed$`));
  });
});
