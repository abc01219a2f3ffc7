// The pure parts of /restic locks and /restic unlock: which source `app` means, what binds a
// confirmation, when a second operator is needed, which pods are active movers, and how the
// evidence renders (problems first, within Slack's limits).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import { activeMovers, lockDigest, secondApproverReason } from '../../commands/restic/evidence.ts';
import { confirmationValue, parseConfirmationValue } from '../../commands/restic/remove-all.ts';
import { crdHasResticUnlock, volsyncRefusal } from '../../commands/restic/volsync-unlock.ts';
import { describeHolder, holderFor, leaseName } from '../../commands/restic/repository-lease.ts';
import { matchProblem, matchSource } from '../../src/volsync/source.ts';
import { lockActions, nextSteps } from '../../commands/restic/locks.ts';
import { secretProblem } from '../../src/volsync/repository.ts';
import type { LockEvidence } from '../../commands/restic/evidence.ts';
import type { ReplicationSource } from '../../src/volsync/source.ts';
import { lockBlocks, MAX_LISTED_LOCKS, summaryLine } from '../../commands/restic/render.ts';
import { verdictFor } from '../../src/restic/index.ts';
import type { HostFacts, ResticLock } from '../../src/restic/index.ts';
import { renderBlocks } from '../../src/slack/render-blocks.ts';
import { validateBlocks } from '../harness/slack/slack-stand-in.ts';

const src = (name: string, o: { pvc?: string; labels?: Record<string, string> } = {}): ReplicationSource => ({
  metadata: { name, namespace: 'media', ...(o.labels ? { labels: o.labels } : {}) },
  spec: { sourcePVC: o.pvc ?? name, restic: { repository: `${name}-secret` } },
});

describe('which ReplicationSource `app` means', () => {
  const sources = [
    src('plex', { pvc: 'plex-config', labels: { 'app.kubernetes.io/name': 'plex' } }),
    src('plex-media', { pvc: 'media', labels: { app: 'plex' } }),
    src('sonarr-a', { pvc: 'shared', labels: { app: 'sonarr' } }),
    src('sonarr-b', { pvc: 'shared', labels: { app: 'sonarr' } }),
    src('radarr', { pvc: 'radarr-data', labels: { 'app.kubernetes.io/name': 'movies' } }),
  ];

  test('by name first, then source PVC, then label', () => {
    const byName = matchSource(sources, 'plex');
    assert.equal(byName.kind === 'found' && byName.by, 'name');
    const byPvc = matchSource(sources, 'radarr-data');
    assert.ok(byPvc.kind === 'found' && byPvc.by === 'source PVC' && byPvc.source.metadata?.name === 'radarr');
    const byLabel = matchSource(sources, 'movies');
    assert.ok(byLabel.kind === 'found' && byLabel.by === 'label' && byLabel.source.metadata?.name === 'radarr');
  });

  test('two by PVC or label: the choices, no guess', () => {
    const pvc = matchSource(sources, 'shared');
    assert.equal(pvc.kind, 'ambiguous');
    assert.match(matchProblem(pvc as never, 'media', 'shared', '/restic locks'), /`shared` matches 2 ReplicationSources in `media` by source PVC: `sonarr-a` \(PVC `shared`, app `sonarr`\), `sonarr-b`.*Name one: `\/restic locks media sonarr-a`/);
    const label = matchSource(sources, 'sonarr');
    assert.ok(label.kind === 'ambiguous' && label.by === 'label' && label.sources.length === 2);
  });

  test('none: the near misses by edit distance, else the list', () => {
    const none = matchSource(sources, 'plx');
    assert.equal(none.kind, 'none');
    assert.match(matchProblem(none as never, 'media', 'plx', '/restic locks'), /Did you mean `\/restic locks media plex`/);
    const far = matchSource(sources, 'zzzzzzzz');
    assert.match(matchProblem(far as never, 'media', 'zzzzzzzz', '/restic locks'), /Sources there: `plex`, `plex-media`, `radarr`/);
    assert.match(matchProblem(matchSource([], 'x') as never, 'media', 'x', '/restic locks'), /No ReplicationSources in `media`/);
  });
});

const lock = (id: string, o: Partial<ResticLock> = {}): ResticLock => ({
  id: id.padEnd(64, '0'), shortId: id.padEnd(64, '0').slice(0, 8), time: new Date('2026-01-10T10:00:00Z'), exclusive: false,
  hostname: 'volsync-src-plex-abcde', username: 'root', pid: 32, uid: 0, gid: 0, ...o,
});
const facts = (phase: 'Running' | 'absent'): HostFacts => ({ thisHost: 'bot-host', isProcessAlive: () => false, podPhase: () => phase });
// 15 minutes after the locks were made: an absent mover's lock is provably unrefreshed (orphaned), not yet stale.
const judged = (l: ResticLock, phase: 'Running' | 'absent', now = new Date('2026-01-10T10:15:00Z')): LockEvidence => ({ lock: l, verdict: verdictFor(l, now, facts(phase)) });
const YOUNG = new Date('2026-01-10T10:02:00Z');

describe('what binds and what gates a --remove-all', () => {
  const base = { sourceUid: 'uid-1', namespace: 'media', secretName: 'plex-secret', requester: 'U1' };

  test('the digest changes with the lock set, the requester, the source and the Secret; not with order', () => {
    const d = lockDigest({ ...base, lockIds: ['a', 'b'] });
    assert.match(d, /^[0-9a-f]{64}$/);
    assert.equal(lockDigest({ ...base, lockIds: ['b', 'a'] }), d);
    for (const other of [{ lockIds: ['a'] }, { lockIds: ['a', 'b', 'c'] }, { requester: 'U2', lockIds: ['a', 'b'] }, { sourceUid: 'uid-2', lockIds: ['a', 'b'] }, { secretName: 'x', lockIds: ['a', 'b'] }]) {
      assert.notEqual(lockDigest({ ...base, ...other }), d);
    }
  });

  test('the button value carries id and digest; a value without a digest parses to an empty one', () => {
    assert.deepEqual(parseConfirmationValue(confirmationValue('abcDEF_-123', 'f'.repeat(64))), { id: 'abcDEF_-123', digest: 'f'.repeat(64) });
    assert.deepEqual(parseConfirmationValue('abcDEF_-123'), { id: 'abcDEF_-123', digest: '' });
  });

  test('a second operator for a live lock or an active mover, not for dead locks', () => {
    assert.equal(secondApproverReason({ locks: [judged(lock('aa'), 'absent')], movers: [] }), undefined);
    assert.match(secondApproverReason({ locks: [judged(lock('bb'), 'Running')], movers: [] }) ?? '', /lock `bb000000` is live/);
    assert.match(secondApproverReason({ locks: [], movers: [{ namespace: 'media', name: 'volsync-src-plex-x', phase: 'Pending', owner: 'plex', kind: 'source' }] }) ?? '', /mover pod `volsync-src-plex-x` \(Pending\) is active/);
 
    // A young lock of a mover that is not here is not provably dead: a second operator, like a live one.
    const young = judged(lock('cc'), 'absent', YOUNG);
    assert.equal(young.verdict.verdict, 'unknown');
    assert.match(secondApproverReason({ locks: [young, judged(lock('aa'), 'absent')], movers: [] }) ?? '', /^lock `cc000000` is not provably dead \(no mover pod of that name is here, but a restic elsewhere may still refresh it\)$/);
  });

  test('active movers: this source\'s Job and destinations on the same Secret, Running or Pending, not deleting', () => {
    const pod = (name: string, job: string, phase: string, deleting = false): V1Pod => ({
      metadata: { name, labels: { 'job-name': job }, ...(deleting ? { deletionTimestamp: new Date() } : {}) },
      status: { phase },
    });
    const movers = activeMovers([
      pod('volsync-src-plex-a', 'volsync-src-plex', 'Running'),
      pod('volsync-src-plex-b', 'volsync-src-plex', 'Failed'),
      pod('volsync-src-plex-c', 'volsync-src-plex', 'Pending', true),
      pod('volsync-src-plexy-d', 'volsync-src-plexy', 'Running'),
      pod('volsync-dst-plex-restore-e', 'volsync-dst-plex-restore', 'Pending'),
    ], 'plex', ['plex-restore']);
    assert.deepEqual(movers.map((m) => [m.name, m.kind]), [['volsync-dst-plex-restore-e', 'destination'], ['volsync-src-plex-a', 'source']]);
  });

  test('the Lease: one name per source, a holder that names the person', () => {
    assert.equal(leaseName('plex'), 'backup-bot-restic-plex');
    assert.ok(leaseName('x'.repeat(253)).length <= 253);
    const holder = holderFor({ id: 'U0ALICE', name: 'alice', via: 'slack' });
    assert.match(holder, /^slack:U0ALICE \(alice\) via backup-bot on /);
    assert.match(describeHolder(holder), /^<@U0ALICE> \(alice\) via backup-bot on /);
    // One holder per operation: the same person's second operation is someone else to the Lease.
    assert.match(holder, / #[0-9a-f]{8}$/);
    assert.notEqual(holderFor({ id: 'U0ALICE', name: 'alice', via: 'slack' }), holder);
    assert.equal(describeHolder('terminal:root via backup-bot on laptop'), 'root via backup-bot on laptop');
    assert.equal(describeHolder('<!channel>'), '&lt;!channel&gt;');
  });
});

describe('messages', () => {
  test('a Secret without the password: names the keys, never a value', () => {
    const line = secretProblem('media', 'plex-secret', { RESTIC_REPOSITORY: 's3:https://user:hunter22@host/b', AWS_ACCESS_KEY_ID: 'AKIA' }) ?? '';
    assert.match(line, /Secret `media\/plex-secret` .* has no RESTIC_PASSWORD \(it has AWS_ACCESS_KEY_ID, RESTIC_REPOSITORY\)/);
    assert.ok(!line.includes('hunter22'));
    assert.match(secretProblem('media', 's', {}) ?? '', /lacks RESTIC_REPOSITORY and RESTIC_PASSWORD \(it is empty\)/);
    assert.equal(secretProblem('media', 's', { RESTIC_REPOSITORY: 'r', RESTIC_PASSWORD: 'p' }), undefined);
  });

  test('next steps per kind of lock', () => {
    const steps = nextSteps({ locks: [judged(lock('aa'), 'absent'), judged(lock('bb', { hostname: 'bot-host' }), 'absent'), judged(lock('cc'), 'Running')] }, 'media', 'plex').join('\n');
    assert.match(steps, /`\/restic unlock media plex` removes the 1 stale lock/);
    assert.match(steps, /orphaned lock is dead but restic calls it stale only from 2026-01-10 10:30 UTC; until then `\/restic unlock media plex --remove-all` clears it/);
    assert.match(steps, /1 live lock belongs to a restic that is still running/);
 
    const unknown = nextSteps({ locks: [judged(lock('ee'), 'absent', YOUNG)] }, 'media', 'plex').join('\n');
    assert.match(unknown, /1 unknown lock may still be in use: its mover pod is not here, but a mover elsewhere \(another namespace or cluster\) may hold it\. Look again after 2026-01-10 10:10 UTC: a lock not refreshed by then is provably orphaned\. Removing it sooner with `\/restic unlock media plex --remove-all` takes two operators\./);
    assert.doesNotMatch(unknown, /is dead/);
  });

  test('the next steps as buttons: unlock for stale locks, remove-all for the rest, none without locks', () => {
    const labels = (locks: LockEvidence[]) => {
      const b = lockActions({ locks }, 'media', 'plex');
      return b?.type === 'actions' ? b.buttons.map((x) => `${x.text} → ${x.value}`) : [];
    };
    const stale = judged(lock('bb', { hostname: 'bot-host' }), 'absent');
    assert.equal(stale.verdict.verdict, 'stale');
    assert.deepEqual(labels([stale, judged(lock('cc'), 'Running')]), ['Unlock stale locks → /restic unlock media plex', 'Remove all locks… → /restic unlock media plex --remove-all']);
    assert.deepEqual(labels([stale]), ['Unlock stale locks → /restic unlock media plex']);
    assert.deepEqual(labels([judged(lock('aa'), 'absent')]), ['Remove all locks… → /restic unlock media plex --remove-all'], 'an orphaned lock is not stale yet');
    assert.deepEqual(labels([judged(lock('ee'), 'absent', YOUNG)]), ['Remove all locks… → /restic unlock media plex --remove-all']);
    assert.deepEqual(labels([]), []);
  });

  test('an unknown lock is listed after the stale ones and before the live ones, and says what we know', () => {
    const locks = [judged(lock('11'), 'Running'), judged(lock('22'), 'absent', YOUNG), judged(lock('33', { hostname: 'bot-host' }), 'absent'), judged(lock('44'), 'absent')];
    const blocks = lockBlocks({ locks, at: YOUNG });
    const texts = blocks.map((b) => (b.type === 'section' ? b.text : ''));
    assert.deepEqual(texts.map((t) => /\*(\w+)\*/.exec(t)?.[1]), ['orphaned', 'stale', 'unknown', 'live']);
    assert.match(texts[2]!, /^:white_circle: \*unknown\* · `22000000` · shared/);
    assert.match(texts[2]!, /Its host looks like a VolSync mover, but no pod volsync-src-plex-abcde exists where the bot can see/);
    assert.match(summaryLine({ locks }, 'media/plex'), /^:warning: 4 locks in the repository of `media\/plex`: 1 orphaned, 1 stale, 1 unknown, 1 live\./);
  });

  test('problems first, and many locks stay within Slack\'s limits', () => {
    const many = Array.from({ length: 60 }, (_, i) => judged(lock(i.toString(16).padStart(2, '0'), { exclusive: i === 5 }), i % 3 === 0 ? 'Running' : 'absent'));
    const blocks = lockBlocks({ locks: many, at: new Date('2026-01-10T10:05:00Z') });
    assert.equal(blocks.length, MAX_LISTED_LOCKS + 1);
    const first = blocks[0]!;
    assert.ok(first.type === 'section' && /orphaned/.test(first.text));
    const rendered = renderBlocks({ text: 'x', blocks: [{ type: 'section', text: summaryLine({ locks: many }, 'media/plex') }, ...blocks], visibility: 'ephemeral' });
    assert.deepEqual(validateBlocks(rendered.blocks), []);
    assert.match(summaryLine({ locks: many }, 'media/plex'), /60 locks .*: 40 orphaned, 20 live\. An exclusive lock blocks every other restic operation/);
    assert.match(summaryLine({ locks: [] }, 'media/plex'), /No locks in the repository of `media\/plex`/);
  });

  test('a lock\'s hostname cannot inject mentions', () => {
    const blocks = lockBlocks({ locks: [judged(lock('dd', { hostname: '<!channel>' }), 'absent')], at: new Date('2026-01-10T10:05:00Z') });
    const text = blocks[0]!.type === 'section' ? blocks[0]!.text : '';
    assert.ok(!text.includes('<!channel>') && text.includes('&lt;!channel&gt;'));
  });
});

describe('the VolSync path', () => {
  const crd = (withUnlock: boolean) => ({
    spec: { versions: [{ name: 'v1alpha1', served: true, schema: { openAPIV3Schema: { properties: { spec: { properties: { restic: { properties: { repository: {}, ...(withUnlock ? { unlock: { type: 'string' } } : {}) } } } } } } } }] },
  });

  test('offered only when the served schema has spec.restic.unlock', () => {
    assert.equal(crdHasResticUnlock(crd(true)), true);
    assert.equal(crdHasResticUnlock(crd(false)), false);
    assert.equal(crdHasResticUnlock({}), false);
    assert.equal(crdHasResticUnlock(crd(true), 'v1beta1'), false);
  });

  test('refused while paused or while a manual sync is pending', () => {
    const rs = (spec: ReplicationSource['spec'], status: ReplicationSource['status'] = {}): ReplicationSource => ({ metadata: { name: 'plex', namespace: 'media' }, spec, status });
    assert.match(volsyncRefusal(rs({ paused: true })) ?? '', /is paused, so VolSync would run no mover.*"paused":false/);
    assert.match(volsyncRefusal(rs({ trigger: { manual: 'x' } }, { lastManualSync: 'y' })) ?? '', /manual sync .* is still pending/);
    assert.equal(volsyncRefusal(rs({ trigger: { manual: 'x' } }, { lastManualSync: 'x' })), undefined);
  });
});
