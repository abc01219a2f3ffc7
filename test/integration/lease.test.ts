/**
 * Leases, leader election and confirmations against a real kube-apiserver: the races and
 * pitfalls from the Percona restore-lease review, on the real optimistic-concurrency machinery.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { kubeUnavailableReason } from '../harness/kube/index.ts';
import type { KubeHarness } from '../harness/kube/index.ts';
import type { Kube } from '../../src/kube/client.ts';
import { LeaseHeldError, microTime, releaseLease, tryAcquireLease, withLease } from '../../src/kube/lease.ts';
import { LeaseLeadership } from '../../src/leader.ts';
import { UserError } from '../../src/errors.ts';
import { repositoryLease, RepositoryLeaseHeldError, underRepositoryLease } from '../../commands/restic/repository-lease.ts';
import { ConfigMapConfirmationStore, Confirmations } from '../../src/confirm/confirmations.ts';
import { kubeWithNamespaces } from '../harness/kube-objects.ts';

const skip = await kubeUnavailableReason();
const ns = `lease-${process.pid}`;
const log = pino({ level: 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('leases, leader election and confirmations on a real API server', { skip }, () => {
  let harness: KubeHarness;
  let kube: Kube;
  before(async () => {
    ({ harness, kube } = await kubeWithNamespaces(ns));
  });
  after(async () => {
    await kube?.core.deleteNamespace({ name: ns }).catch(() => undefined);
    await harness?.stop();
  });

  const opts = (name: string, holder: string, durationSeconds = 30) => ({ kube, namespace: ns, name, holder, durationSeconds });

  test('two creators at once: exactly one gets the lease, the other is told who holds it', async () => {
    const results = await Promise.all(['alice', 'bob', 'carol'].map((h) => tryAcquireLease(opts('race', h))));
    const winners = results.filter((r) => r.acquired);
    assert.equal(winners.length, 1);
    const holder = winners[0]!.lease.spec!.holderIdentity!;
    for (const r of results.filter((x) => !x.acquired)) {
      assert.equal(r.acquired, false);
      if (!r.acquired) assert.equal(r.holder, holder);
    }
  });

  test('renewTime is stored as MicroTime with six fractional digits', async () => {
    const r = await tryAcquireLease(opts('micro', 'alice'));
    assert.ok(r.acquired);
    const raw = await fetch(`${harness.server}/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/micro`, { headers: { authorization: `Bearer ${harness.token}` } }).catch(() => undefined);
    // The CA is private; when fetch cannot verify it, read the value through the client instead.
    const lease = raw?.ok ? ((await raw.json()) as { spec: { renewTime: string } }) : await kube.coordination.readNamespacedLease({ name: 'micro', namespace: ns });
    assert.match(String(lease.spec!.renewTime), /\.\d{6}Z$/);
    assert.equal(microTime(new Date('2026-11-22T02:00:00.123Z')), '2026-11-22T02:00:00.123000Z');
  });

  test('an expired holder is taken over, with the transition counted; only the holder can release', async () => {
    const first = await tryAcquireLease(opts('expiry', 'alice', 1));
    assert.ok(first.acquired);
    const early = await tryAcquireLease(opts('expiry', 'bob', 1));
    assert.equal(early.acquired, false);
    await sleep(1300);
    const late = await tryAcquireLease(opts('expiry', 'bob', 1));
    assert.ok(late.acquired);
    assert.equal(late.lease.spec!.holderIdentity, 'bob');
    assert.equal(late.lease.spec!.leaseTransitions, 1);
    assert.equal(await releaseLease(opts('expiry', 'alice', 1)), false, 'alice no longer holds it');
    assert.equal(await releaseLease(opts('expiry', 'bob', 1)), true);
    await assert.rejects(kube.coordination.readNamespacedLease({ name: 'expiry', namespace: ns }), (e: { code?: number }) => e.code === 404);
  });

  test('withLease renews during long work, refuses a second taker, and releases after a failure', async () => {
    let secondError: unknown;
    await assert.rejects(withLease(opts('work', 'alice', 2), async (signal) => {
      await sleep(2600); // longer than the lease: it must have been renewed meanwhile
      assert.equal(signal.aborted, false);
      try {
        await withLease(opts('work', 'bob', 2), async () => 'never');
      } catch (err) {
        secondError = err;
      }
      throw new Error('work failed');
    }), /work failed/);
    assert.ok(secondError instanceof LeaseHeldError);
    assert.match((secondError as Error).message, /held by alice/);
    await assert.rejects(kube.coordination.readNamespacedLease({ name: 'work', namespace: ns }), (e: { code?: number }) => e.code === 404);
  });

  test('a held Lease is never re-entered, also not under the same holder string; the holder still releases it', async () => {
    let second: unknown;
    await withLease(opts('reenter', 'alice'), async () => {
      await assert.rejects(withLease(opts('reenter', 'alice'), async () => 'never'), (e: unknown) => (second = e) instanceof LeaseHeldError);
      const lease = await kube.coordination.readNamespacedLease({ name: 'reenter', namespace: ns });
      assert.equal(lease.spec?.holderIdentity, 'alice', 'still the first one\'s');
    });
    assert.ok(second instanceof LeaseHeldError);
    await assert.rejects(kube.coordination.readNamespacedLease({ name: 'reenter', namespace: ns }), (e: { code?: number }) => e.code === 404);
    // A leader re-asserting its own lease is still fine.
    assert.ok((await tryAcquireLease(opts('leader-renews', 'r1'))).acquired);
    assert.ok((await tryAcquireLease(opts('leader-renews', 'r1'))).acquired);
  });

  test('one operator, two operations on one repository at once: the second is refused as held, the first one\'s release still works', async () => {
    const alice = { id: 'U0ALICE', name: 'alice', via: 'slack' as const };
    let release!: () => void;
    const working = new Promise<void>((r) => (release = r));
    let started!: () => void;
    const holding = new Promise<void>((r) => (started = r));
    let ran = 0;
    const first = underRepositoryLease(repositoryLease(kube, ns, 'plex', alice), 'media/plex', async (signal) => {
      ran++;
      started();
      await working;
      assert.equal(signal.aborted, false);
      return 'first done';
    });
    await holding;
    const firstHolder = (await kube.coordination.readNamespacedLease({ name: 'backup-bot-restic-plex', namespace: ns })).spec?.holderIdentity;
    assert.match(firstHolder ?? '', /^slack:U0ALICE \(alice\) via backup-bot on \S+ #[0-9a-f]{8}$/);

    const second = await underRepositoryLease(repositoryLease(kube, ns, 'plex', alice), 'media/plex', async () => {
      ran++;
      return 'second done';
    }).then(() => undefined, (e: unknown) => e);
    assert.ok(second instanceof RepositoryLeaseHeldError, `refused as held: ${String(second)}`);
    assert.ok(second instanceof UserError, 'an answer, not an internal error');
    assert.equal(second.holder, firstHolder);
    assert.match(second.message, /^Another unlock of `media\/plex` is running: Lease `lease-\d+\/backup-bot-restic-plex` is held by <@U0ALICE> \(alice\) via backup-bot on /);
    assert.equal(ran, 1, 'the second never ran');
    // Neither renewed nor released by the refused one.
    assert.equal((await kube.coordination.readNamespacedLease({ name: 'backup-bot-restic-plex', namespace: ns })).spec?.holderIdentity, firstHolder);

    release();
    assert.equal(await first, 'first done');
    await assert.rejects(kube.coordination.readNamespacedLease({ name: 'backup-bot-restic-plex', namespace: ns }), (e: { code?: number }) => e.code === 404, 'released by the first');
  });

  test('leader election: one leader among replicas; when it stops, another takes over', async () => {
    const replicas = ['r1', 'r2', 'r3'].map((id) => new LeaseLeadership(kube, { namespace: ns, identity: id, durationSeconds: 3, retryMs: 300, log }));
    for (const r of replicas) r.start();
    await sleep(1500);
    const leaders = replicas.filter((r) => r.isLeader());
    assert.equal(leaders.length, 1);
    await leaders[0]!.stop();
    await sleep(1500);
    const next = replicas.filter((r) => r.isLeader());
    assert.equal(next.length, 1);
    assert.notEqual(next[0], leaders[0]);
    for (const r of replicas) await r.stop();
  });

  test('confirmations in a ConfigMap: a double click on two replicas approves once; restarts keep them', async () => {
    const store = () => new ConfigMapConfirmationStore(kube, { namespace: ns });
    const a = new Confirmations({ store: store(), ttlMs: 60_000 });
    const rec = await a.create({ action: 'restic-remove-all', target: 'media/plex', requester: { id: 'U0ALICE', via: 'slack' }, digest: 'locks:1,2' });
    // A "restarted" bot (a new store and service) sees the same pending record.
    const b = new Confirmations({ store: store(), ttlMs: 60_000 });
    const outcomes = await Promise.allSettled([
      a.approve(rec.id, { id: 'U0ALICE', via: 'slack' }, { action: 'restic-remove-all', digest: 'locks:1,2' }),
      b.approve(rec.id, { id: 'U0BOB', via: 'slack' }, { action: 'restic-remove-all', digest: 'locks:1,2' }),
    ]);
    assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 1);
    const rejected = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
    assert.match(rejected.reason.message, /Already confirmed by .*a confirmation works once/);
    // Altered evidence and a replay are refused.
    const other = await a.create({ action: 'restic-remove-all', target: 'media/plex', requester: { id: 'U0ALICE', via: 'slack' }, digest: 'locks:1', approvalsNeeded: 2 });
    await assert.rejects(b.approve(other.id, { id: 'U0BOB', via: 'slack' }, { action: 'restic-remove-all', digest: 'locks:1,2,3' }), /does not match this request/);
    assert.equal((await b.approve(other.id, { id: 'U0ALICE', via: 'slack' }, { action: 'restic-remove-all', digest: 'locks:1' })).status, 'waiting');
    await assert.rejects(a.approve(other.id, { id: 'U0ALICE', via: 'slack' }, { action: 'restic-remove-all', digest: 'locks:1' }), /second, different operator/);
    assert.equal((await a.approve(other.id, { id: 'U0BOB', via: 'slack' }, { action: 'restic-remove-all', digest: 'locks:1' })).status, 'approved');
  });
});
