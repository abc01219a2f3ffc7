// The shipped PrometheusRule: the VolSync alerts a user should have, on VolSync's real metric
// names, aggregated by the VolSync object so the bot can find the source, and routed to the bot by
// the README's Alertmanager example. (promtool check/test rules was run on it by hand: see the commit.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { backupAlertTarget } from '../../src/alerts/backup-alert.ts';

interface Rule { alert: string; expr: string; for?: string; labels?: Record<string, string>; annotations?: Record<string, string> }
const doc = parse(readFileSync(new URL('../../deploy/prometheus-rules-volsync.yaml', import.meta.url), 'utf8')) as { apiVersion: string; kind: string; spec: { groups: Array<{ name: string; rules: Rule[] }> } };
const rules = doc.spec.groups.flatMap((g) => g.rules);

test('a PrometheusRule with the three VolSync alerts, each on the metric VolSync exports', () => {
  assert.equal(doc.apiVersion, 'monitoring.coreos.com/v1');
  assert.equal(doc.kind, 'PrometheusRule');
  const metric: Record<string, RegExp> = {
    VolSyncVolumeOutOfSync: /\bvolsync_volume_out_of_sync\b/,
    VolSyncMissedIntervals: /increase\(volsync_missed_intervals_total\[6h\]\)/,
    VolSyncSyncDurationHigh: /volsync_sync_duration_seconds_sum\[6h\].*volsync_sync_duration_seconds_count\[6h\].*volsync_sync_duration_seconds_sum\[7d\]/s,
  };
  assert.deepEqual(rules.map((r) => r.alert), Object.keys(metric));
  for (const r of rules) {
    assert.match(r.expr, metric[r.alert]!, r.alert);
    // By the VolSync object only (never the scrape's namespace/pod, the controller's), and with
    // `namespace` set to the object's so alerts.routes can route it.
    for (const by of r.expr.match(/by \(([^)]*)\)/g) ?? []) assert.equal(by, 'by (obj_namespace, obj_name, role, method)', r.alert);
    assert.match(r.expr, /label_replace\([\s\S]*"namespace", "\$1", "obj_namespace", "\(\.\*\)"\s*\)\s*$/, r.alert);
    assert.ok(r.labels?.['severity'] && r.annotations?.['summary'], r.alert);
  }
});

test('every alert the rule makes gets the backup diagnosis, and the README routes it to the bot', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const matcher = /matchers: \['alertname=~"([^"]+)"'\]/.exec(readme.slice(readme.indexOf('### Alerts about backups')));
  assert.ok(matcher, "the README's Alertmanager example has the backup-bot route");
  const routed = new RegExp(`^(?:${matcher[1]})$`);
  for (const r of rules) {
    assert.match(r.alert, routed);
    // The labels the rule's alerts carry (obj_* from VolSync, namespace from label_replace).
    const labels = { alertname: r.alert, obj_namespace: 'media', obj_name: 'plex', role: 'source', method: 'restic', namespace: 'media', ...r.labels };
    assert.deepEqual(backupAlertTarget(labels, false), { namespace: 'media', name: 'plex', kind: 'source' }, r.alert);
  }
  for (const other of ['KubeJobFailed', 'KubePodCrashLooping']) assert.match(other, routed);
});
