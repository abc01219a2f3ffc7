// Which alerts are about a backup, and which VolSync object: by VolSync's metric labels, the
// mover Job's name or the mover pod's; labels are outside text, so only valid names pass.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { backupAlertTarget } from '../../src/alerts/backup-alert.ts';
import { silenceScope } from '../../src/alerts/diagnoser.ts';

describe('backupAlertTarget', () => {
  it("VolSync's metrics: obj_namespace/obj_name, a destination by its role", () => {
    assert.deepEqual(backupAlertTarget({ alertname: 'VolSyncVolumeOutOfSync', obj_namespace: 'media', obj_name: 'plex', role: 'source' }, false), { namespace: 'media', name: 'plex', kind: 'source' });
    assert.deepEqual(backupAlertTarget({ alertname: 'VolSyncVolumeOutOfSync', obj_namespace: 'media', obj_name: 'plex-restore', role: 'destination' }, false), { namespace: 'media', name: 'plex-restore', kind: 'destination' });
  });

  it("a failed mover Job (kube-state-metrics' job_name), source or destination", () => {
    assert.deepEqual(backupAlertTarget({ alertname: 'KubeJobFailed', namespace: 'media', job_name: 'volsync-src-plex' }, false), { namespace: 'media', name: 'plex', kind: 'source' });
    assert.deepEqual(backupAlertTarget({ alertname: 'KubeJobFailed', namespace: 'media', job_name: 'volsync-dst-plex-restore' }, false), { namespace: 'media', name: 'plex-restore', kind: 'destination' });
    assert.equal(backupAlertTarget({ alertname: 'KubeJobFailed', namespace: 'media', job_name: 'nightly-report' }, false), undefined);
  });

  it('a crash-looping mover pod, only as a crash loop and only by a mover pod name', () => {
    const labels = { alertname: 'KubePodCrashLooping', namespace: 'media', pod: 'volsync-src-plex-nzlv6' };
    assert.deepEqual(backupAlertTarget(labels, true), { namespace: 'media', name: 'plex', kind: 'source' });
    assert.equal(backupAlertTarget(labels, false), undefined);
    assert.equal(backupAlertTarget({ ...labels, pod: 'plex-5d8c7b9f6d-abcde' }, true), undefined);
  });

  it('labels that are no Kubernetes names are not a target (they would reach an API call)', () => {
    for (const [ns, name] of [['media', '../etc'], ['Media', 'plex'], ['media', 'plex <!channel>'], ['', 'plex'], ['media', 'x'.repeat(254)]] as const) {
      assert.equal(backupAlertTarget({ alertname: 'VolSyncVolumeOutOfSync', obj_namespace: ns, obj_name: name }, false), undefined, `${ns}/${name}`);
    }
    assert.equal(backupAlertTarget({ alertname: 'KubeJobFailed', namespace: 'media', job_name: 'volsync-src-Pl_ex' }, false), undefined);
  });

  it("a silence of a backup alert covers that object only, not every alert of its name", () => {
    assert.deepEqual(silenceScope({ alertname: 'VolSyncVolumeOutOfSync', obj_namespace: 'media', obj_name: 'plex', role: 'source', method: 'restic' }), { alertname: 'VolSyncVolumeOutOfSync', obj_namespace: 'media', obj_name: 'plex' });
    assert.deepEqual(silenceScope({ alertname: 'KubeJobFailed', namespace: 'media', job_name: 'volsync-src-plex', condition: 'true' }), { alertname: 'KubeJobFailed', namespace: 'media', job_name: 'volsync-src-plex' });
  });
});
