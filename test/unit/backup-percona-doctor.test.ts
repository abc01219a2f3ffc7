import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateLocks, describeLock } from '../../src/backup/percona.ts';
import type { Lease, PerconaRestore } from '../../src/backup/objects.ts';
import { diagnose } from '../../src/backup/doctor.ts';
import type { DoctorInput } from '../../src/backup/doctor.ts';
import { renderDoctor } from '../../src/backup/doctor-reply.ts';
import { renderBlocks } from '../../src/slack/render-blocks.ts';
import { validateBlocks } from '../harness/slack/slack-stand-in.ts';

const NOW = Date.parse('2026-01-18T10:30:00Z');
const iso = (ms: number) => new Date(ms).toISOString();

describe('Percona restore lock (K8SPS-686)', () => {
  const restore = (name: string, state?: string): PerconaRestore => ({ metadata: { name, namespace: 'db' }, spec: { clusterName: 'c1' }, status: state ? { state } : undefined });
  const lease = (holder: string, renewedAgoS: number, duration?: number): Lease => ({ metadata: { name: 'restore-lock-c1', namespace: 'db' }, spec: { holderIdentity: holder, renewTime: iso(NOW - renewedAgoS * 1000), leaseDurationSeconds: duration } });

  test('an unexpired lease held by a running restore blocks backups', () => {
    const [l] = evaluateLocks([lease('r1', 5, 30)], [restore('r1', 'Running')], [], NOW);
    assert.equal(l?.blocking, true);
    assert.match(describeLock(l!, NOW), /Restore `r1` \(Running\) holds Lease `db\/restore-lock-c1` \(expires in 25s\): backups of cluster `c1` fail/);
  });

  test('stale: the holder finished or is gone, yet the lease still keeps backups out', () => {
    const [done] = evaluateLocks([lease('r1', 5, 30)], [restore('r1', 'Succeeded')], [], NOW);
    assert.equal(done?.stale, true);
    assert.match(describeLock(done!, NOW), /Stale restore lock .* its holder `r1` is Succeeded.*kubectl delete lease restore-lock-c1 -n db/);
    const [gone] = evaluateLocks([lease('r9', 5)], [restore('r1', 'Running')], [], NOW);
    assert.equal(gone?.stale, true, 'no duration set: never expires');
    assert.match(describeLock(gone!, NOW), /no longer exists/);
  });

  test('expired while the restore still runs: backups are no longer kept out (the renewal pitfall)', () => {
    const [l] = evaluateLocks([lease('r1', 120, 30)], [restore('r1', 'Running')], [], NOW);
    assert.equal(l?.blocking, false);
    assert.equal(l?.expiredWhileRunning, true);
    assert.match(describeLock(l!, NOW), /expired \(expired 1m ago\) while restore `r1` is still Running/);
  });

  test('leases of other clusters or other names are ignored', () => {
    assert.deepEqual(evaluateLocks([{ metadata: { name: 'restore-lock-other', namespace: 'db' }, spec: { holderIdentity: 'x' } }], [restore('r1', 'Running')], [], NOW), []);
  });
});

describe('doctor checks', () => {
  const base = (): DoctorInput => ({
    namespaces: [{ metadata: { name: 'ok', labels: { 'volsync.backube/privileged-movers': 'true' } } }, { metadata: { name: 'bare', labels: {} } }],
    pvcs: [], sources: [], secrets: [], pods: [], volumes: [], deployments: [], failures: {},
  });

  test('configurable PVC label; a PVC with a source is fine', () => {
    const input = base();
    input.pvcs = [
      { metadata: { name: 'a', namespace: 'ok', labels: { tier: 'gold' } } },
      { metadata: { name: 'b', namespace: 'ok', labels: { tier: 'gold' } } },
      { metadata: { name: 'c', namespace: 'ok', labels: { backup: 'hourly' } } },
    ];
    input.sources = [{ metadata: { name: 'a', namespace: 'ok' }, spec: { sourcePVC: 'a' } }];
    input.secrets = [{ metadata: { name: 'volsync-rustfs-base', namespace: 'ok' } }];
    const r = diagnose(input, { pvcLabel: 'tier=gold', now: NOW });
    assert.deepEqual(r.findings.map((f) => f.subject), ['b']);
    assert.match(r.findings[0]!.why, /the Kyverno policy did not act on it/);
    assert.equal(r.looked['unprotected-pvc'], 2);
  });

  test('a list that failed is named, and its check skipped rather than guessed', () => {
    const input = base();
    input.secrets = undefined;
    input.failures['list Secrets'] = 'Cannot list Secrets: RBAC forbids it (403).';
    input.sources = [{ metadata: { name: 'a', namespace: 'ok' }, spec: { sourcePVC: 'a', restic: { repository: 'a-secret' } } }];
    const r = diagnose(input, { pvcLabel: 'backup=hourly', now: NOW });
    assert.deepEqual(r.findings, []);
    assert.deepEqual(r.skipped, ['Cannot list Secrets: RBAC forbids it (403).']);
    const reply = renderDoctor(r, { now: NOW });
    assert.equal(reply.tone, 'warn');
    assert.match(JSON.stringify(reply.blocks), /RBAC forbids it/);
  });

  test('Deployments: default strategy and replicas count; ReadWriteMany or two replicas do not', () => {
    const input = base();
    input.pvcs = [
      { metadata: { name: 'rwo', namespace: 'bare' }, spec: { accessModes: ['ReadWriteOnce'] } },
      { metadata: { name: 'rwx', namespace: 'bare' }, spec: { accessModes: ['ReadWriteMany'] } },
    ];
    const dep = (name: string, claim: string, spec: Record<string, unknown> = {}) => ({ metadata: { name, namespace: 'bare' }, spec: { ...spec, template: { spec: { volumes: [{ name: 'd', persistentVolumeClaim: { claimName: claim } }] } } } });
    input.deployments = [dep('defaults', 'rwo'), dep('shared', 'rwx'), dep('two', 'rwo', { replicas: 2 }), dep('recreate', 'rwo', { strategy: { type: 'Recreate' } })];
    const r = diagnose(input, { pvcLabel: 'backup=hourly', now: NOW });
    assert.deepEqual(r.findings.map((f) => f.subject), ['defaults']);
    assert.equal(r.findings[0]!.fix[0], `kubectl patch deployment defaults -n bare --type merge -p '{"spec":{"strategy":{"type":"Recreate","rollingUpdate":null}}}'`);
  });

  test('thousands of findings: one valid message that points to the namespace form', () => {
    const input = base();
    input.namespaces = [];
    for (let i = 0; i < 3000; i++) input.pvcs!.push({ metadata: { name: `pvc-${i}`, namespace: `ns-${i}`, labels: { backup: 'hourly' } } });
    const r = renderDoctor(diagnose(input, { pvcLabel: 'backup=hourly', now: NOW }), { now: NOW });
    const out = renderBlocks(r);
    assert.deepEqual(validateBlocks(out.blocks), []);
    assert.match(JSON.stringify(out.blocks), /…and \d+ more \(`\/backup doctor &lt;namespace&gt;`|…and \d+ more \(`\/backup doctor <namespace>`/);
    assert.match(r.text, /3000 findings/);
  });
});
