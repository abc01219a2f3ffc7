// Text from outside the bot (restic's stderr from a tenant's S3 endpoint, lock hostnames, alert
// labels and annotations, Alertmanager's externalURL, pod logs, CR status and spec strings) goes
// through every reply that shows it: no mention, no link of its own survives, a backtick cannot
// break out of a code span, and a 10 KB value keeps the message within Block Kit's limits.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { errorReply, reply, type Reply } from '../../src/reply.ts';
import { renderBlocks } from '../../src/slack/render-blocks.ts';
import { renderText } from '../../src/terminal/render-text.ts';
import { validateBlocks } from '../harness/slack/slack-stand-in.ts';
import { resticErrorFor } from '../../src/restic/errors.ts';
import { verdictFor, type HostFacts, type ResticLock } from '../../src/restic/index.ts';
import { lockBlocks } from '../../commands/restic/render.ts';
import { unlockReportBlocks } from '../../commands/restic/unlock.ts';
import { listReply, parentMessage } from '../../src/alerts/alert-messages.ts';
import type { GroupBatch } from '../../src/alerts/notification-queue.ts';
import type { WebhookAlert } from '../../src/alerts/alertmanager-types.ts';
import { diagnosisReply } from '../../src/alerts/diagnosis-reply.ts';
import { classify } from '../../src/alerts/classify.ts';
import { evaluateAll } from '../../src/backup/source-health.ts';
import type { Inventory } from '../../src/backup/inventory.ts';
import type { ReplicationSource } from '../../src/backup/objects.ts';
import { renderSourceDetail, renderStatus } from '../../src/backup/status-reply.ts';
import { diagnose, type DoctorInput } from '../../src/backup/doctor.ts';
import { renderDoctor } from '../../src/backup/doctor-reply.ts';
import { escalationReply, summaryReply } from '../../src/backup-window/summary.ts';
import type { InstanceState, ObservedAlert } from '../../src/backup-window/state.ts';
import { silencedReply } from '../../commands/alerts.ts';
import { ButtonSigner } from '../../src/alerts/button-values.ts';

const TOKENS = ['<!channel>', '<@U0123>', '<https://evil.example|click>', '*bold*', '`'];
const TEN_KB = 'A'.repeat(10_000);
/**
 * The hostile values: every token at the start and at the end (logs are shown by their tail), an
 * odd number of backticks, and 10 KB between (or not: a reply may drop a value too long to show,
 * so each reply also gets a short one). The `word` form has no spaces, for fields a parser reads
 * as one word (a hostname).
 */
const VARIANTS = [
  { label: '10 KB', evil: `${TOKENS.join(' ')} ${TEN_KB} ${TOKENS.join(' ')} \``, word: `${TOKENS.join('')}${TEN_KB}${TOKENS.join('')}\`` },
  { label: 'short', evil: `${TOKENS.join(' ')} \``, word: `${TOKENS.join('')}\`` },
];
const FORBIDDEN = ['<!channel', '<!here', '<@U0123', '<https://evil', '|click>'];

const NOW = new Date('2026-01-18T10:30:00Z');

/** Every mrkdwn string of a rendered message, with where it is. */
function mrkdwnTexts(rendered: { text: string; blocks: Record<string, unknown>[] }): Array<[where: string, text: string]> {
  const out: Array<[string, string]> = [['text', rendered.text]];
  const walk = (v: unknown, path: string): void => {
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${path}[${i}]`));
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (o['type'] === 'mrkdwn' && typeof o['text'] === 'string') out.push([path, o['text']]);
      for (const [k, x] of Object.entries(o)) walk(x, `${path}.${k}`);
    }
  };
  walk(rendered.blocks, 'blocks');
  return out;
}

function assertSafe(what: string, r: Reply | { text: string; blocks: Record<string, unknown>[] }): void {
  const rendered = 'visibility' in r ? renderBlocks(r) : r;
  assert.deepEqual(validateBlocks(rendered.blocks), [], `${what}: invalid Block Kit`);
  assert.ok(rendered.text.length <= 4000, `${what}: a ${rendered.text.length}-character text fallback`);
  for (const [where, text] of mrkdwnTexts(rendered)) {
    for (const raw of FORBIDDEN) assert.ok(!text.includes(raw), `${what}: raw ${raw} in ${where}: ${text.slice(Math.max(0, text.indexOf(raw) - 80), text.indexOf(raw) + 40)}`);
    // Outside the ``` fences, backticks pair up: an outside backtick did not open or close a span.
    const inline = text.replace(/```[\s\S]*?```/g, '');
    assert.equal((inline.match(/`/g) ?? []).length % 2, 0, `${what}: unbalanced backticks in ${where}: ${inline.slice(0, 300)}`);
  }
  // The terminal shows the same text readably, not as HTML entities or with stray mentions.
  if ('visibility' in r) assert.doesNotThrow(() => renderText(r));
}

for (const { label, evil: EVIL, word: EVIL_WORD } of VARIANTS) describe(`outside text (${label}) in every reply that shows it`, () => {
  test('a restic error reply: stderr of a failed command, an S3 error body, a lock holder', () => {
    const failed = resticErrorFor({ code: 1, stderr: `Fatal: unable to open config file: ${EVIL}` }, { command: 'restic snapshots' });
    assertSafe('restic failed', errorReply(failed!.message));
    const s3 = resticErrorFor({ code: 1, stderr: `Fatal: unable to open repository: s3.getCredentials: unexpected HTTP response (403): 403 Forbidden <Error><Code>AccessDenied</Code><Message>${EVIL}</Message></Error>` }, { command: 'restic snapshots', credentialsFrom: 'Secret media/plex' });
    assert.equal(s3?.kind, 'backend-auth');
    assertSafe('S3 403', errorReply(s3!.message));
    const tls = resticErrorFor({ code: 1, stderr: `Fatal: Get "https://s3.example/": x509: certificate signed by unknown authority ${EVIL}` }, { command: 'restic snapshots' });
    assertSafe('TLS', errorReply(tls!.message));
    const down = resticErrorFor({ code: 1, stderr: `Fatal: dial tcp: lookup ${EVIL_WORD}: no such host` }, { command: 'restic snapshots' });
    assertSafe('unreachable', errorReply(down!.message));
    const locked = resticErrorFor({
      code: 11,
      stderr: `unable to create lock in backend: repository is already locked exclusively by PID 32 on ${EVIL_WORD} by ${EVIL} (UID 0, GID 0)\nlock was created at 2026-01-10 10:00:00 (5m0s ago)\nstorage ID 1a2b3c4d\n`,
    }, { command: 'restic forget' });
    assertSafe('locked', errorReply(locked!.message));
  });

  test('/restic locks: a lock\'s hostname and username', () => {
    const lock: ResticLock = {
      id: 'ab'.repeat(32), shortId: 'abababab', time: new Date('2026-01-18T10:00:00Z'), exclusive: true,
      hostname: EVIL_WORD, username: EVIL, pid: 32, uid: 0, gid: 0,
    };
    const facts: HostFacts = { thisHost: 'bot-host', isProcessAlive: () => false, podPhase: () => 'absent' };
    const blocks = lockBlocks({ locks: [{ lock, verdict: verdictFor(lock, NOW, facts) }], at: NOW });
    assertSafe('locks', reply('1 lock', blocks));
    const verdict = verdictFor(lock, NOW, facts);
    const report = { command: 'restic unlock' as const, before: [lock, lock], removed: [lock], remaining: [{ lock, verdict, keptBecause: `plain \`restic unlock\` removes only stale locks, and restic does not call this one stale: made on ${lock.hostname}` }], refreshed: [], appeared: [], resticOutput: EVIL };
    assertSafe('unlock report', reply('unlocked', unlockReportBlocks(report, 'media/plex', NOW)));
  });

  const alert = (over: Partial<WebhookAlert> = {}): WebhookAlert => ({
    status: 'firing',
    labels: { alertname: EVIL, namespace: 'apps', pod: EVIL_WORD, container: EVIL, severity: EVIL },
    annotations: { summary: EVIL, description: EVIL },
    startsAt: '2026-01-18T10:00:00Z', endsAt: '0001-01-01T00:00:00Z', generatorURL: EVIL, fingerprint: 'f00d',
    ...over,
  }) as WebhookAlert;

  test('an alert group\'s parent message and its text fallback', () => {
    const batch: GroupBatch = {
      groupKey: '{}:{alertname="x"}', receiver: EVIL, status: 'firing',
      groupLabels: { alertname: EVIL, namespace: EVIL }, commonLabels: { alertname: EVIL, team: EVIL }, commonAnnotations: { summary: EVIL },
      externalURL: `https://am.example/${EVIL_WORD}`, truncatedAlerts: 0, alerts: new Map([['f00d', alert()]]), receivedAt: NOW, attempts: 0,
    };
    const parent = parentMessage(batch, { firing: 1, resolved: 0 }, NOW);
    assertSafe('parent', parent);
    for (const a of parent.attachments) for (const raw of FORBIDDEN) assert.ok(!JSON.stringify(a).includes(raw), `attachment: ${raw}`);
    const disguised = parentMessage({ ...batch, externalURL: '<https://evil.example|click>' }, { firing: 1, resolved: 0 }, NOW);
    assertSafe('parent with a disguised externalURL', disguised);
  });

  test('an alert group\'s thread replies and their text fallbacks', () => {
    const noPod = alert({ labels: { alertname: EVIL, job: EVIL, instance: EVIL_WORD } });
    const r = listReply([{ alert: alert(), kind: 'firing' }, { alert: noPod, kind: 'firing' }, { alert: alert({ status: 'resolved', endsAt: '2026-01-18T10:20:00Z' }), kind: 'resolved' }], { alertname: 'KubePodCrashLooping' }, NOW);
    assertSafe('thread reply', r);
  });

  test('a crash-loop diagnosis: log lines, events, owner, termination message', () => {
    const target = { namespace: 'apps', pod: EVIL_WORD, container: EVIL };
    const log = [`level=error msg="${EVIL}"`, `panic: ${EVIL}`, EVIL];
    const classification = classify({ ...target, previousLog: log, waitingReason: EVIL, lastTermination: { reason: EVIL, exitCode: 1, message: EVIL }, image: EVIL_WORD });
    const r = diagnosisReply({
      target, alertname: EVIL, classification, now: NOW,
      facts: {
        found: true, evidence: { ...target, restartCount: 7, waitingReason: EVIL, lastTermination: { reason: EVIL, exitCode: 1, message: EVIL, finishedAt: '2026-01-18T10:29:00Z' }, image: EVIL_WORD, previousLog: log },
        phase: 'Running', events: [{ type: 'Warning', reason: EVIL, message: EVIL, count: 3, at: NOW }],
        owner: { kind: EVIL, name: EVIL_WORD, strategy: EVIL, replicas: 1, error: EVIL }, resources: EVIL, log: { lines: log },
      },
      backup: { movers: { movers: [{ namespace: 'apps', name: EVIL_WORD, kind: 'source', owner: EVIL, phase: EVIL, since: NOW }], at: NOW }, windows: [] },
    });
    assertSafe('diagnosis', r);
    const unavailable = diagnosisReply({
      target, classification, now: NOW, backup: { movers: { movers: [], at: NOW, error: EVIL }, windows: [] },
      facts: { found: false, error: EVIL, evidence: target, events: [], eventsError: EVIL, log: { unavailable: EVIL } },
    });
    assertSafe('diagnosis without facts', unavailable);
  });

  test('a silence\'s reply and a window\'s summary and escalation: pod labels', () => {
    const scope = { alertname: EVIL, namespace: 'apps', pod: EVIL_WORD, container: EVIL };
    assertSafe('silenced', silencedReply(new ButtonSigner('signing-secret-for-tests'), { id: 'abcd1234-0000', url: 'http://am.example/#/silences/abcd1234-0000', scope, endsAt: NOW, span: '1 h', by: 'alice', now: NOW }));
    const observed = (pod: string, status: ObservedAlert['status']): ObservedAlert => ({ fingerprint: `f-${status}`, alertname: EVIL, namespace: 'apps', pod, container: EVIL, status, firstSeenAt: '2026-01-18T02:10:00Z', lastSeenAt: '2026-01-18T03:00:00Z', transient: false, source: 'webhook' });
    const instance: InstanceState = {
      id: 'pbs@2026-01-18T02:00:00.000Z', window: 'pbs', zone: 'UTC', start: '2026-01-18T02:00:00Z', end: '2026-01-18T03:30:00Z', graceEnd: '2026-01-18T03:45:00Z',
      openedAt: '2026-01-18T02:00:00Z', mode: 'annotate', cfg: 'abc', alerts: { a: observed(EVIL_WORD, 'firing'), b: observed(EVIL, 'resolved') },
    };
    assertSafe('window summary', summaryReply({ instance, zone: 'UTC', escalate: 'S0ONCALL', mention: true, alertmanagerNote: 'checked' }));
    assertSafe('escalation', escalationReply(instance, observed(EVIL_WORD, 'firing'), { zone: 'UTC', escalate: 'S0ONCALL', mention: true }));
  });

  test('/backup status: the mover log tail, the sync condition, the CR\'s own strings', () => {
    const source: ReplicationSource = {
      metadata: { name: 'plex', namespace: 'apps', creationTimestamp: '2025-12-01T00:00:00Z' },
      spec: { sourcePVC: EVIL_WORD, trigger: { schedule: EVIL, manual: EVIL }, restic: { repository: EVIL_WORD } },
      status: {
        lastSyncTime: '2026-01-18T09:00:00Z', lastSyncDuration: EVIL, lastManualSync: 'x',
        latestMoverStatus: { result: 'Failed', logs: EVIL },
        conditions: [{ type: 'Synchronizing', status: EVIL, reason: EVIL, lastTransitionTime: '2026-01-18T09:00:00Z', message: EVIL }],
      },
    } as ReplicationSource;
    const inv: Inventory = {
      from: 'live', at: NOW.getTime(), sources: [source], pods: [], jobs: [], volumes: [], notes: [EVIL],
      pvcs: [{ metadata: { name: EVIL_WORD, namespace: 'apps' }, spec: { volumeName: 'pvc-plex' }, status: { phase: EVIL } }],
    } as Inventory;
    const data = { inventory: inv, health: evaluateAll(inv, NOW.getTime()), stuck: new Map(), notes: inv.notes };
    assertSafe('status', renderStatus(data, { now: NOW.getTime() }));
    assertSafe('status of one source', renderSourceDetail(data, NOW.getTime()));
  });

  test('/backup doctor: names and strings from specs and statuses', () => {
    const input: DoctorInput = {
      namespaces: [{ metadata: { name: 'apps', labels: {} } }],
      pvcs: [{ metadata: { name: 'data', namespace: 'apps', labels: { backup: 'hourly' } }, spec: { volumeName: 'pvc-1', accessModes: ['ReadWriteOnce'] } }],
      sources: [{ metadata: { name: 'plex', namespace: 'apps' }, spec: { sourcePVC: EVIL_WORD, restic: { repository: EVIL_WORD } } } as ReplicationSource],
      secrets: [],
      unreadable: { [`apps/${EVIL_WORD}`]: { forbidden: false, line: EVIL } },
      pods: [],
      volumes: [{ metadata: { name: 'pvc-1' }, status: { robustness: 'faulted', state: EVIL, kubernetesStatus: { namespace: 'apps', pvcName: 'data' } } }],
      deployments: [{ metadata: { name: 'web', namespace: 'apps' }, spec: { replicas: 1, template: { spec: { volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'data' } }, { name: 'e', persistentVolumeClaim: { claimName: EVIL_WORD } }] } } } }],
      failures: { 'list Deployments': EVIL },
    };
    assertSafe('doctor', renderDoctor(diagnose(input, { pvcLabel: 'backup=hourly', now: NOW.getTime() }), { now: NOW.getTime() }));
    const missing = { ...input, unreadable: {}, secrets: [{ metadata: { name: EVIL_WORD, namespace: 'apps' }, data: {} }] };
    assertSafe('doctor, missing keys', renderDoctor(diagnose(missing, { pvcLabel: 'backup=hourly', now: NOW.getTime() }), { now: NOW.getTime() }));
    const forbidden = { ...input, unreadable: { [`apps/${EVIL_WORD}`]: { forbidden: true, line: EVIL } } };
    assertSafe('doctor, forbidden', renderDoctor(diagnose(forbidden, { pvcLabel: 'backup=hourly', now: NOW.getTime() }), { now: NOW.getTime() }));
  });
});

test('the terminal shows escaped outside text as it was written, in code spans and code blocks too', () => {
  const r = reply('x', [
    { type: 'section', text: `Host \`a&amp;b&lt;c&gt;\` and plain &lt;!channel&gt;` },
    { type: 'code', text: 'line &lt;1&gt; &amp; more' },
  ]);
  assert.equal(renderText(r), 'Host a&b<c> and plain <!channel>\n    line <1> & more');
});
