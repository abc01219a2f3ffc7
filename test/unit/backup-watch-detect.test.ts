import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseFileConfig } from '../../src/config.ts';
import { detectProblems, watchSettings } from '../../src/backup/incidents.ts';
import type { Inventory } from '../../src/backup/inventory.ts';
import { classifyMoverLog } from '../../src/backup/source-diagnosis.ts';

const NOW = Date.parse('2026-12-02T12:00:00Z');
const H = 3_600_000;
const M = 60_000;
const iso = (t: number) => new Date(t).toISOString();
const LOCK_LOG = [
  'using parent snapshot 4f1c2d9a',
  'unable to create lock in backend: repository is already locked by PID 32 on volsync-src-plex-nzlv6 by root (UID 0, GID 0)',
  'the `unlock` command can be used to remove stale locks',
].join('\n');

function src(ns: string, name: string, spec: Record<string, unknown>, status?: Record<string, unknown>) {
  return { apiVersion: 'volsync.backube/v1alpha1', kind: 'ReplicationSource', metadata: { namespace: ns, name, creationTimestamp: iso(NOW - 30 * 24 * H) }, spec: { sourcePVC: name, ...spec }, ...(status ? { status } : {}) };
}
const ok = (at: number) => ({ lastSyncTime: iso(at), lastSyncStartTime: iso(at - M), latestMoverStatus: { result: 'Successful' } });
const pvc = (ns: string, name: string, o: { labels?: Record<string, string>; created?: number; volumeName?: string } = {}) => ({ metadata: { namespace: ns, name, labels: o.labels ?? {}, creationTimestamp: iso(o.created ?? NOW - 30 * 24 * H) }, spec: o.volumeName ? { volumeName: o.volumeName } : {} });

function world(): Inventory {
  const hourly = { trigger: { schedule: '0 * * * *' } };
  return {
    from: 'cache', at: NOW, notes: [], jobs: [],
    sources: [
      src('apps', 'healthy', hourly, ok(NOW - 10 * M)),
      src('apps', 'plex', hourly, { ...ok(NOW - 8 * 24 * H), lastSyncStartTime: iso(NOW - 3 * H), latestMoverStatus: { result: 'Failed', logs: LOCK_LOG } }),
      src('apps', 'late', hourly, ok(NOW - 5 * H)),
      src('apps', 'resting', { ...hourly, paused: true }, { ...ok(NOW - 9 * 24 * H), latestMoverStatus: { result: 'Failed', logs: LOCK_LOG } }),
      src('apps', 'meili', hourly, ok(NOW - 20 * M)),
      src('apps', 'manual', {}, {}),
      src('apps', 'weird', { trigger: { schedule: 'every tuesday' } }, ok(NOW - 5 * H)),
      src('scratch', 'tmp', hourly, { latestMoverStatus: { result: 'Failed', logs: 'x' } }),
      src('apps', 'mangled', hourly, { lastSyncTime: 'not a time', conditions: 'garbage' } as never),
    ] as never,
    pods: [{ metadata: { namespace: 'apps', name: 'volsync-src-meili-w8k4d', labels: { 'job-name': 'volsync-src-meili' }, creationTimestamp: iso(NOW - 40 * M) }, status: { phase: 'Pending', startTime: iso(NOW - 40 * M) } }] as never,
    pvcs: [
      pvc('apps', 'healthy'), pvc('apps', 'plex'), pvc('apps', 'late'), pvc('apps', 'resting'), pvc('apps', 'meili', { volumeName: 'pvc-meili' }),
      pvc('apps', 'orphan', { labels: { backup: 'hourly' }, created: NOW - 3 * H }),
      pvc('apps', 'newborn', { labels: { backup: 'hourly' }, created: NOW - 10 * M }),
      pvc('scratch', 'junk', { labels: { backup: 'hourly' }, created: NOW - 3 * H }),
    ] as never,
    volumes: [{ metadata: { name: 'pvc-meili', namespace: 'longhorn-system' }, status: { state: 'detached', robustness: 'faulted' } }] as never,
  };
}

const settings = (watch: Record<string, unknown> = {}) => watchSettings(parseFileConfig({ watch: { ignore: [{ namespace: 'scratch' }], ...watch } }, 'test'));

test('one problem per broken source and kind; healthy, paused, manual-only and ignored sources have none', () => {
  const d = detectProblems(world(), NOW, settings());
  assert.deepEqual(d.problems.map((p) => p.id), ['apps/late/overdue', 'apps/meili/stuck', 'apps/orphan/unprotected', 'apps/plex/failing']);
  const byId = new Map(d.problems.map((p) => [p.id, p]));
  // Every run since the last success (8 days ago) failed: failing since the first of them.
  assert.equal(byId.get('apps/plex/failing')!.since, Date.parse('2026-11-24T13:00:00Z'));
  // Failing for 3h and 8 days without a success: one incident, the overdue part is a fact of it.
  assert.match(byId.get('apps/plex/failing')!.facts.join('\n'), /No successful sync for 8d/);
  assert.equal(byId.get('apps/late/overdue')!.since, Date.parse('2026-12-02T08:00:00Z'));
  assert.equal(byId.get('apps/meili/stuck')!.since, NOW - 40 * M);
  assert.match(byId.get('apps/meili/stuck')!.facts.join('\n'), /faulted/);
  assert.equal(byId.get('apps/orphan/unprotected')!.since, NOW - 3 * H);
});

test('thresholds come from watch settings: a larger grace and stuck time make fewer problems', () => {
  const d = detectProblems(world(), NOW, settings({ overdueGraceMinutes: 600, stuckMinutes: 60, unprotectedGraceMinutes: 600 }));
  const ids = d.problems.map((p) => p.id);
  assert.ok(!ids.includes('apps/late/overdue'));
  assert.ok(!ids.includes('apps/orphan/unprotected'));
  // Still stuck: the faulted volume does not wait for the pod threshold.
  assert.match(d.problems.find((p) => p.id === 'apps/meili/stuck')!.facts.join('\n'), /faulted/);
  assert.doesNotMatch(d.problems.find((p) => p.id === 'apps/meili/stuck')!.facts.join('\n'), /stuck in Pending/);
});

test('a failing source without a schedule says that overdue is not judged for it', () => {
  const inv = world();
  (inv.sources as unknown[]).push(src('apps', 'adhoc', {}, { lastSyncStartTime: iso(NOW - H), latestMoverStatus: { result: 'Failed', logs: 'Fatal: wrong password or no key found' } }));
  const p = detectProblems(inv, NOW, settings()).problems.find((x) => x.id === 'apps/adhoc/failing');
  assert.ok(p);
  assert.match(p.facts.join('\n'), /no schedule \(manual syncs only\), so overdue runs are not judged/);
  assert.equal(p.since, NOW - H);
});

test('ignore by name skips one source, leaving the namespace watched', () => {
  const d = detectProblems(world(), NOW, settings({ ignore: [{ namespace: 'apps', name: 'plex' }] }));
  const ids = d.problems.map((p) => p.id);
  assert.ok(!ids.includes('apps/plex/failing'));
  assert.ok(ids.includes('apps/late/overdue'));
  assert.ok(ids.includes('scratch/tmp/failing'), 'the scratch namespace is no longer ignored');
});

test('a malformed source is a clear line, not a crash, and the rest are still judged', () => {
  const inv = world();
  (inv.sources as unknown[]).push({ metadata: { namespace: 'apps', name: 'broken' }, spec: { trigger: { schedule: '0 * * * *' } }, status: { latestMoverStatus: 7, conditions: { a: 1 } } });
  const d = detectProblems(inv, NOW, settings());
  assert.ok(d.problems.some((p) => p.id === 'apps/plex/failing'));
  assert.equal(d.notes.length, 2, d.notes.join('\n'));
  assert.match(d.notes[0]!, /Could not judge ReplicationSource `apps\/mangled`: its spec or status is malformed/);
  assert.match(d.notes[1]!, /Could not judge ReplicationSource `apps\/broken`: its spec or status is malformed/);
});

test('the mover log is classified with the runbook patterns', () => {
  const locked = classifyMoverLog(LOCK_LOG, { namespace: 'apps', name: 'plex', pods: [] });
  assert.equal(locked?.headline, 'repository locked by a mover pod that no longer exists');
  assert.match(locked?.nextStep ?? '', /\/restic locks apps plex/);
  const live = classifyMoverLog(LOCK_LOG, { namespace: 'apps', name: 'plex', pods: [{ metadata: { name: 'volsync-src-plex-nzlv6' }, status: { phase: 'Running' } }] as never });
  assert.equal(live?.headline, 'repository locked by the running mover volsync-src-plex-nzlv6');
  assert.equal(classifyMoverLog('Fatal: wrong password or no key found', { namespace: 'a', name: 'b' })?.headline, 'wrong repository password');
  assert.equal(classifyMoverLog('Fatal: unable to open config file: Stat: The specified key does not exist.\nIs there a repository at the following location?', { namespace: 'a', name: 'b' })?.headline, 'no repository at the configured location');
  assert.equal(classifyMoverLog('Save(<lock/1>) returned error, retrying after 1s: dial tcp 10.0.0.5:9000: connect: connection refused\nFatal: unable to save', { namespace: 'a', name: 'b' })?.headline, 'storage endpoint unreachable');
  assert.equal(classifyMoverLog('   ', { namespace: 'a', name: 'b' }), undefined);
  // Outside text is escaped before it reaches mrkdwn.
  assert.equal(classifyMoverLog('Fatal: <!channel> boom', { namespace: 'a', name: 'b' })?.headline, '&lt;!channel&gt; boom');
});

test('watch configuration: defaults, and errors that name the field', () => {
  const c = parseFileConfig({}, 'test');
  assert.deepEqual(c.watch, { enabled: true, overdueGraceMinutes: 30, stuckMinutes: 15, unprotectedGraceMinutes: 60, ignore: [] });
  const rejects = (watch: unknown, re: RegExp) => assert.throws(() => parseFileConfig({ watch }, 'bot.yaml'), (e: unknown) => e instanceof ConfigError && re.test(e.message));
  rejects({ overdueGraceMinutes: -5 }, /watch\.overdueGraceMinutes: expected a whole number of minutes from 0 to 1440; got -5/);
  rejects({ stuckMinutes: 'soon' }, /watch\.stuckMinutes: expected a whole number of minutes/);
  rejects({ channel: 'general' }, /watch\.channel: expected a Slack channel ID/);
  rejects({ ignore: [{ namespace: 'Bad_NS' }] }, /watch\.ignore\[0\]\.namespace: expected a Kubernetes namespace name/);
  rejects({ ignore: [{ name: 'x' }] }, /watch\.ignore\[0\]\.namespace/);
  rejects({ enabled: 'yes' }, /watch\.enabled: expected true or false/);
  rejects({ grace: 1 }, /watch: unknown key\(s\) "grace"/);
  assert.equal(parseFileConfig({ watch: { channel: 'C0123BACKUPS', ignore: [{ namespace: 'scratch', name: 'tmp' }] } }, 't').watch.channel, 'C0123BACKUPS');
});
