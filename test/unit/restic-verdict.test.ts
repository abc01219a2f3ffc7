import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { podHostname, podPhaseLookup } from '../../src/restic/host-facts.ts';
import {
  blocksFor,
  isMoverHostname,
  LOCK_REFRESH_INTERVAL_MS,
  ORPHANED_AFTER_MS,
  repositoryBlocks,
  resticStaleness,
  UNREFRESHED_MARGIN_MS,
  verdictFor,
  type HostFacts,
  type LockFacts,
  type PodPhase,
} from '../../src/restic/verdict.ts';

const NOW = new Date('2025-12-13T10:30:00Z');
const minutesAgo = (m: number): Date => new Date(NOW.getTime() - m * 60_000);

function facts(opts: { alive?: number[]; pods?: Record<string, PodPhase> } = {}): HostFacts {
  return {
    thisHost: 'backup-bot-7d9f-x2k4p',
    isProcessAlive: (pid) => (opts.alive ?? []).includes(pid),
    podPhase: (host) => opts.pods?.[host] ?? (isMoverHostname(host) ? 'absent' : 'not-a-pod'),
  };
}

function lock(over: Partial<LockFacts> = {}): LockFacts {
  return { time: minutesAgo(3), exclusive: false, hostname: 'volsync-src-plex-nzlv6', pid: 32, ...over };
}

describe('verdictFor', () => {
  it('calls a lock older than 30 minutes stale, whatever its host (restic: plain unlock removes it)', () => {
    const v = verdictFor(lock({ time: minutesAgo(189 * 60) }), NOW, facts({ pods: { 'volsync-src-plex-nzlv6': 'Running' } }));
    assert.equal(v.verdict, 'stale');
    assert.equal(v.removableBy, 'unlock');
    assert.equal(v.resticCallsItStale, true);
    assert.match(v.reason, /7d 21h old/);
  });

  it('uses restic’s strict "older than": exactly 30 minutes is not yet stale', () => {
    assert.equal(resticStaleness(lock({ time: minutesAgo(30) }), NOW, facts()).stale, false);
    assert.equal(resticStaleness(lock({ time: new Date(minutesAgo(30).getTime() - 1) }), NOW, facts()).stale, true);
  });

  it('calls a fresh lock on this host with a dead PID stale, and with a live PID live', () => {
    const here = lock({ hostname: 'backup-bot-7d9f-x2k4p', pid: 4242 });
    const dead = verdictFor(here, NOW, facts());
    assert.equal(dead.verdict, 'stale');
    assert.match(dead.reason, /PID 4242, which is no longer running/);
    const alive = verdictFor(here, NOW, facts({ alive: [4242] }));
    assert.equal(alive.verdict, 'live');
    assert.equal(alive.removableBy, 'none');
  });

  it('does not ask about processes of other hosts (a PID there means nothing here)', () => {
    let asked = false;
    const f: HostFacts = { ...facts(), isProcessAlive: () => ((asked = true), false) };
    verdictFor(lock(), NOW, f);
    assert.equal(asked, false);
  });

  it('does not call a young lock of a mover pod that is not here orphaned: unknown, and says when it would be', () => {
    // 3 minutes old: a restic in a mover elsewhere (another namespace or cluster, or started after
    // the pods were read) may hold it and refresh it in time.
    const v = verdictFor(lock(), NOW, facts());
    assert.equal(v.verdict, 'unknown');
    assert.equal(v.removableBy, 'unlock --remove-all');
    assert.equal(v.resticCallsItStale, false);
    assert.equal(v.staleAt.toISOString(), '2025-12-13T10:57:00.000Z');
    assert.equal(v.orphanedAt.toISOString(), '2025-12-13T10:37:00.000Z');
    assert.match(v.reason, /^Unknown: /);
    assert.match(v.reason, /no pod volsync-src-plex-nzlv6 exists where the bot can see/);
    assert.match(v.reason, /3m old/);
    assert.match(v.reason, /another namespace or cluster/);
    assert.match(v.reason, /still there at 2025-12-13 10:37 UTC, it was not refreshed and is provably orphaned/);
    assert.doesNotMatch(v.reason, /no longer exists/);
  });

  it('calls a lock of a mover pod that is not here orphaned once it is older than the refresh interval plus a margin', () => {
    const v = verdictFor(lock({ time: minutesAgo(11) }), NOW, facts());
    assert.equal(v.verdict, 'orphaned');
    assert.equal(v.removableBy, 'unlock --remove-all');
    assert.equal(v.resticCallsItStale, false);
    assert.equal(v.staleAt.toISOString(), '2025-12-13T10:49:00.000Z');
    assert.match(v.reason, /no pod volsync-src-plex-nzlv6 exists where the bot can see/);
    assert.match(v.reason, /11m old: a running restic rewrites its lock every 5 minutes, so this one was not refreshed/);
    assert.match(v.reason, /not call it stale before 2025-12-13 10:49 UTC/);
  });

  it('draws the unrefreshed line at exactly the refresh interval plus the margin (strictly older is orphaned)', () => {
    assert.equal(ORPHANED_AFTER_MS, LOCK_REFRESH_INTERVAL_MS + UNREFRESHED_MARGIN_MS);
    const at = (ms: number) => verdictFor(lock({ time: new Date(NOW.getTime() - ms) }), NOW, facts()).verdict;
    assert.equal(at(ORPHANED_AFTER_MS), 'unknown');
    assert.equal(at(ORPHANED_AFTER_MS + 1), 'orphaned');
  });

  it('calls a lock from the future (clock skew) of an absent mover unknown, never orphaned', () => {
    const v = verdictFor(lock({ time: new Date(NOW.getTime() + 20 * 60_000) }), NOW, facts());
    assert.equal(v.verdict, 'unknown');
    assert.match(v.reason, /in the future \(clock skew\)/);
  });

  for (const phase of ['Succeeded', 'Failed'] as const) {
    it(`calls a fresh lock of a ${phase} mover pod orphaned`, () => {
      const v = verdictFor(lock(), NOW, facts({ pods: { 'volsync-src-plex-nzlv6': phase } }));
      assert.equal(v.verdict, 'orphaned');
      assert.match(v.reason, new RegExp(`finished \\(${phase}\\)`));
    });
  }

  it('treats restore movers (volsync-dst-*) like backup movers', () => {
    assert.equal(verdictFor(lock({ hostname: 'volsync-dst-plex-restore-8h2kq' }), NOW, facts()).verdict, 'unknown');
    assert.equal(verdictFor(lock({ hostname: 'volsync-dst-plex-restore-8h2kq', time: minutesAgo(11) }), NOW, facts()).verdict, 'orphaned');
    assert.equal(verdictFor(lock({ hostname: 'volsync-dst-plex-restore-8h2kq' }), NOW, facts({ pods: { 'volsync-dst-plex-restore-8h2kq': 'Failed' } })).verdict, 'orphaned');
  });

  it('keeps a running or waiting pod\'s lock live however old it looks (short of restic\'s 30 minutes)', () => {
    for (const phase of ['Running', 'Pending', 'Unknown'] as const) {
      assert.equal(verdictFor(lock({ time: minutesAgo(25) }), NOW, facts({ pods: { 'volsync-src-plex-nzlv6': phase } })).verdict, 'live');
    }
  });

  it('calls a fresh lock of a running pod live', () => {
    const v = verdictFor(lock(), NOW, facts({ pods: { 'volsync-src-plex-nzlv6': 'Running' } }));
    assert.equal(v.verdict, 'live');
    assert.equal(v.removableBy, 'none');
    assert.match(v.reason, /running pod/);
  });

  for (const phase of ['Pending', 'Unknown'] as const) {
    it(`does not call a ${phase} pod's lock dead`, () => {
      assert.equal(verdictFor(lock(), NOW, facts({ pods: { 'volsync-src-plex-nzlv6': phase } })).verdict, 'live');
    });
  }

  it('does not call a fresh lock from a machine that is not a pod dead', () => {
    const laptop = verdictFor(lock({ hostname: 'alice-laptop' }), NOW, facts());
    assert.equal(laptop.verdict, 'live');
    assert.match(laptop.reason, /not a pod/);
    // Absent but not a mover name: the name may belong to anything, not proof of death.
    const f: HostFacts = { ...facts(), podPhase: () => 'absent' };
    assert.equal(verdictFor(lock({ hostname: 'restic-shell' }), NOW, f).verdict, 'live');
  });

  it('reports a lock from the future (clock skew) as not stale', () => {
    const v = verdictFor(lock({ hostname: 'alice-laptop', time: new Date(NOW.getTime() + 10 * 60_000) }), NOW, facts());
    assert.equal(v.verdict, 'live');
    assert.match(v.reason, /in the future/);
  });
});

describe('blocksFor', () => {
  it('says a shared lock stops retention while backups keep succeeding', () => {
    const b = blocksFor({ exclusive: false });
    assert.deepEqual(b.operations, ['forget', 'prune', 'check']);
    assert.match(b.summary, /backups keep succeeding while retention silently stops/);
  });

  it('says an exclusive lock blocks everything', () => {
    const b = blocksFor({ exclusive: true });
    assert.ok(b.operations.includes('backup') && b.operations.includes('prune'));
    assert.match(b.summary, /every other restic operation/);
  });

  it('takes the worst lock for the repository', () => {
    assert.equal(repositoryBlocks([]), undefined);
    assert.deepEqual(repositoryBlocks([{ exclusive: false }, { exclusive: true }]), blocksFor({ exclusive: true }));
  });
});

describe('host facts from pods', () => {
  it('maps pod hostnames to phases, and unknown hosts to absent (movers) or not-a-pod', () => {
    const phase = podPhaseLookup([
      { name: 'volsync-src-plex-nzlv6', phase: 'Failed' },
      { name: 'restic-shell', phase: 'Running' },
      { name: 'weird', phase: 'Exploded' },
    ]);
    assert.equal(phase('volsync-src-plex-nzlv6'), 'Failed');
    assert.equal(phase('restic-shell'), 'Running');
    assert.equal(phase('weird'), 'Unknown');
    assert.equal(phase('volsync-src-plex-zzzzz'), 'absent');
    assert.equal(phase('alice-laptop'), 'not-a-pod');
  });

  it('with several pods of one hostname (namespaces of the whole cluster), the one still going decides', () => {
    const pods = [
      { name: 'volsync-dst-plex-restore-8h2kq', phase: 'Failed' },
      { name: 'volsync-dst-plex-restore-8h2kq', phase: 'Running' },
      { name: 'volsync-src-plex-aaaaa', phase: 'Succeeded' },
      { name: 'volsync-src-plex-aaaaa', phase: 'Pending' },
    ];
    for (const order of [pods, [...pods].reverse()]) {
      const phase = podPhaseLookup(order);
      assert.equal(phase('volsync-dst-plex-restore-8h2kq'), 'Running');
      assert.equal(phase('volsync-src-plex-aaaaa'), 'Pending');
    }
  });

  it('knows a long pod name becomes a 63-character hostname', () => {
    const name = `volsync-src-${'a'.repeat(50)}-b-xq7z2`;
    const host = podHostname({ name });
    assert.equal(host.length <= 63, true);
    assert.ok(!host.endsWith('-'));
    assert.equal(podPhaseLookup([{ name, phase: 'Running' }])(host), 'Running');
    assert.equal(podHostname({ name, hostname: 'custom' }), 'custom');
  });
});
