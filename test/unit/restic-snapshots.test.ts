// The repository's own truth, pure: restic's snapshot JSON parsed defensively, and each verdict of
// repositoryTruth() given for its case and for none of the healthy ones.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseSnapshots } from '../../src/restic/snapshots.ts';
import type { ResticSnapshot } from '../../src/restic/snapshots.ts';
import { repositoryTruth, retainedAtMost } from '../../src/restic/repository-truth.ts';
import type { ReplicationSource } from '../../src/volsync/source.ts';
import { bytes } from '../../src/text.ts';
import { snapshotLine } from '../../commands/restic/snapshots.ts';

const NOW = new Date('2026-12-01T12:00:00Z');
const HOUR = 3_600_000;
const id = (n: number) => n.toString(16).padStart(64, 'a');
const snap = (hoursAgo: number, n: number, o: Partial<ResticSnapshot> & { files?: number; size?: number } = {}): ResticSnapshot => ({
  id: id(n), shortId: id(n).slice(0, 8), time: new Date(NOW.getTime() - hoursAgo * HOUR), hostname: 'volsync', paths: ['/data'], tags: [],
  summary: { filesNew: 1, filesChanged: 0, filesProcessed: o.files ?? 1000, bytesProcessed: o.size ?? 50_000_000, dataAdded: 1024 },
  ...o,
});
/** Hourly snapshots, newest first. */
const hourly = (n: number, o: { files?: number; size?: number } = {}) => Array.from({ length: n }, (_, i) => snap(i + 1, i, o));
const source = (o: { lastSyncHoursAgo?: number; failed?: boolean; retain?: Record<string, unknown>; lastPrunedDaysAgo?: number; pruneIntervalDays?: number; createdDaysAgo?: number } = {}): ReplicationSource => ({
  metadata: { name: 'plex', namespace: 'media', creationTimestamp: new Date(NOW.getTime() - (o.createdDaysAgo ?? 3) * 24 * HOUR).toISOString() },
  spec: { sourcePVC: 'plex', restic: { repository: 'plex-secret', ...(o.retain ? { retain: o.retain } : {}), ...(o.pruneIntervalDays !== undefined ? { pruneIntervalDays: o.pruneIntervalDays } : {}) } },
  status: {
    ...(o.lastSyncHoursAgo !== undefined ? { lastSyncTime: new Date(NOW.getTime() - o.lastSyncHoursAgo * HOUR).toISOString() } : {}),
    ...(o.failed ? { latestMoverStatus: { result: 'Failed', logs: 'unable to create lock in backend: repository is already locked' } } : { latestMoverStatus: { result: 'Successful' } }),
    ...(o.lastPrunedDaysAgo !== undefined ? { restic: { lastPruned: new Date(NOW.getTime() - o.lastPrunedDaysAgo * 24 * HOUR).toISOString() } } : {}),
  } as ReplicationSource['status'],
});
const kinds = (rs: ReplicationSource, s: ResticSnapshot[]) => repositoryTruth(rs, s, NOW).map((v) => v.kind);

describe('restic snapshots --json, parsed', () => {
  test('newest first, the summary read, and entries restic could not have written left out', () => {
    const json = JSON.stringify([
      { time: '2026-11-28T10:00:00Z', id: id(1), hostname: 'volsync', paths: ['/data'], summary: { files_new: 2, total_files_processed: 3, total_bytes_processed: 6, data_added: 1063 } },
      { time: '2026-11-30T10:00:00Z', id: id(2), hostname: 'volsync', paths: ['/data'], tags: ['manual', 7] },
      { time: 'yesterday', id: id(3) },
      { time: '2026-11-30T10:00:00Z', id: 'not-an-id' },
      null,
    ]);
    const s = parseSnapshots(json);
    assert.deepEqual(s.map((x) => x.shortId), [id(2).slice(0, 8), id(1).slice(0, 8)]);
    assert.deepEqual(s[0]!.tags, ['manual']);
    assert.equal(s[0]!.summary, undefined, 'restic < 0.17 writes no summary');
    assert.deepEqual(s[1]!.summary, { filesNew: 2, filesChanged: 0, filesProcessed: 3, bytesProcessed: 6, dataAdded: 1063 });
    assert.throws(() => parseSnapshots('{"not":"a list"}'), /did not print a list/);
  });

  test('a line per snapshot: when, ID, host, size; outside text escaped', () => {
    const line = snapshotLine(snap(2, 1, { hostname: '<!channel>', tags: ['`x`'] }), NOW, false);
    assert.match(line, /^• `aaaaaaaa` · 2026-12-01 10:00 UTC \(2h ago\) · host `&lt;!channel&gt;` · 1000 files, 48 MB · \+1\.0 KB new · `\/data` · tags/);
    assert.doesNotMatch(line, /<!channel>/);
    assert.equal(bytes(0), '0 B');
    assert.equal(bytes(1536), '1.5 KB');
    assert.equal(bytes(50 * 1024 * 1024), '50 MB');
  });
});

describe('where the repository and the ReplicationSource disagree', () => {
  test('a healthy repository: no verdict', () => {
    assert.deepEqual(kinds(source({ lastSyncHoursAgo: 1, retain: { hourly: 24, daily: 7 }, lastPrunedDaysAgo: 2 }), hourly(20)), []);
  });

  test('no snapshot at all, while the CR says it synced', () => {
    const [v] = repositoryTruth(source({ lastSyncHoursAgo: 1 }), [], NOW);
    assert.equal(v?.kind, 'no-snapshot');
    assert.match(v!.line, /no snapshot, yet the ReplicationSource says it synced 1h ago: nothing here can be restored/);
  });

  test('the CR says synced 10 minutes ago, the newest snapshot is 3 days old', () => {
    const [v] = repositoryTruth(source({ lastSyncHoursAgo: 10 / 60 }), [snap(72, 1), snap(73, 2)], NOW);
    assert.equal(v?.kind, 'cr-ahead');
    assert.match(v!.line, /says it synced 10m ago, but the newest snapshot \(`aaaaaaaa`\) is from 3d ago/);
    // Within the sync's own duration the two agree.
    assert.deepEqual(kinds(source({ lastSyncHoursAgo: 1 }), [snap(1.5, 1)]), []);
  });

  test('the sync failed but its snapshot exists: said, and not a problem', () => {
    const v = repositoryTruth(source({ lastSyncHoursAgo: 5, failed: true }), [snap(1, 1), snap(5, 2)], NOW);
    assert.deepEqual(v.map((x) => [x.kind, x.problem]), [['failed-but-saved', false]]);
    assert.match(v[0]!.line, /last sync failed, but its snapshot `aaaaaaaa` \(1h ago\) is in the repository: the data is safe/);
    assert.deepEqual(kinds(source({ lastSyncHoursAgo: 5, failed: true }), [snap(5.5, 2)]), [], 'no newer snapshot: the failure lost the backup, nothing reassuring to say');
  });

  test('340 snapshots where the policy keeps at most 30: forget is not running', () => {
    const [v] = repositoryTruth(source({ lastSyncHoursAgo: 1, retain: { hourly: 24, daily: 6 }, lastPrunedDaysAgo: 1 }), hourly(340), NOW);
    assert.equal(v?.kind, 'retention');
    assert.match(v!.line, /^340 snapshots where the retention policy keeps at most 30: `forget` is not running/);
    assert.deepEqual(kinds(source({ lastSyncHoursAgo: 1, retain: { hourly: 24, daily: 6 }, lastPrunedDaysAgo: 1 }), hourly(31)), [], 'one over: the snapshot before its forget');
    assert.deepEqual(kinds(source({ lastSyncHoursAgo: 1, retain: { within: '30d' }, lastPrunedDaysAgo: 1 }), hourly(340)), [], 'within: no count to compare with');
    assert.deepEqual(kinds(source({ lastSyncHoursAgo: 1, retain: { last: '5' }, lastPrunedDaysAgo: 1 }), hourly(10)), ['retention'], 'a count written as a string');
    assert.equal(retainedAtMost({ last: 5, daily: 7, weekly: 4 }), 16);
  });

  test('retention per host and paths, as forget groups them', () => {
    const two = [...hourly(20), ...hourly(20).map((s, i) => ({ ...s, id: id(1000 + i), hostname: 'laptop' }))];
    assert.deepEqual(kinds(source({ lastSyncHoursAgo: 1, retain: { hourly: 24 }, lastPrunedDaysAgo: 1 }), two), []);
  });

  test('prune overdue, and never pruned', () => {
    const [v] = repositoryTruth(source({ lastSyncHoursAgo: 1, lastPrunedDaysAgo: 12 }), hourly(5), NOW);
    assert.equal(v?.kind, 'prune');
    assert.match(v!.line, /Prune overdue: last pruned 12d ago, every 7 days by the policy/);
    assert.deepEqual(kinds(source({ lastSyncHoursAgo: 1, lastPrunedDaysAgo: 12, pruneIntervalDays: 14 }), hourly(5)), []);
    assert.match(repositoryTruth(source({ lastSyncHoursAgo: 1, createdDaysAgo: 30 }), hourly(5), NOW)[0]!.line, /Never pruned, though the source is 30d old and prunes every 7 days/);
  });

  test('the newest snapshot far smaller than the median before it, or empty', () => {
    const small = [snap(1, 99, { files: 12, size: 4096 }), ...hourly(10).map((s) => ({ ...s, time: new Date(s.time.getTime() - HOUR) }))];
    const [v] = repositoryTruth(source({ lastSyncHoursAgo: 1, lastPrunedDaysAgo: 1 }), small, NOW);
    assert.equal(v?.kind, 'suspicious');
    assert.match(v!.line, /far smaller than the ones before: 12 files, 4\.0 KB against a median of 1000 files, 48 MB/);
    const empty = [snap(1, 99, { files: 0, size: 0 }), ...small.slice(1)];
    assert.match(repositoryTruth(source({ lastSyncHoursAgo: 1, lastPrunedDaysAgo: 1 }), empty, NOW)[0]!.line, /is empty \(0 files, 0 B\).*was the volume mounted\?/);
    assert.deepEqual(kinds(source({ lastSyncHoursAgo: 1, lastPrunedDaysAgo: 1 }), small.slice(0, 3)), [], 'two before it: too few to call it small');
  });
});
