/**
 * /backup doctor against a real API server: each runbook case as real objects, the findings as
 * kubectl shows them, and the suggested fix commands applied with kubectl to prove they work.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { kubeUnavailableReason, kubectl } from '../harness/kube/index.ts';
import type { KubeHarness } from '../harness/kube/index.ts';
import { validateBlocks } from '../harness/slack/slack-stand-in.ts';
import { renderBlocks } from '../../src/slack/render-blocks.ts';
import { backupDoctor } from '../../src/backup/doctor.ts';
import type { Reply } from '../../src/reply.ts';
import { Fixtures, HOUR, iso, kubeFixtures, kubeFor, uniq } from './backup-fixtures.ts';
import { serviceAccountKube } from '../harness/kube-objects.ts';
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { KubeConfig, RbacAuthorizationV1Api, type V1PolicyRule } from '@kubernetes/client-node';
import { type Kube } from '../../src/kube/client.ts';
import { stopAll } from '../harness/stop-all.ts';

/** The rules of the ClusterRole the bot is deployed with. */
function deployedRules(): V1PolicyRule[] {
  const docs = parseAllDocuments(readFileSync(new URL('../../deploy/rbac.yaml', import.meta.url), 'utf8')).map((d) => d.toJSON() as { kind?: string; rules?: V1PolicyRule[] });
  const role = docs.find((d) => d.kind === 'ClusterRole');
  assert.ok(role?.rules, 'deploy/rbac.yaml has a ClusterRole');
  return role.rules;
}

const skip = await kubeUnavailableReason();
const PASSWORD = 'doctor-test-restic-password-do-not-print';
const ACCESS_KEY = 'doctor-test-secret-access-key-do-not-print';

describe('/backup doctor on a real API server', { skip }, () => {
  let harness: KubeHarness;
  let fx: Fixtures;
  const plain = uniq('bbdr-plain');   // no privileged-movers label, no base secret
  const labelled = uniq('bbdr-lab');  // labelled, base secret missing / present
  const faulted = uniq('pvc-bbdr-faulted');
  const cacheVol = uniq('pvc-bbdr-cache');

  before(async () => {
    ({ harness, fx } = await kubeFixtures(plain));
    await fx.namespace(labelled, { 'volsync.backube/privileged-movers': 'true' });
    // 1. Labelled PVCs with no source: one where the namespace lacks everything, one in a labelled
    // namespace without base secret; and a protected one for contrast.
    await fx.pvc(plain, 'storage', { labels: { backup: 'hourly' } });
    await fx.pvc(labelled, 'orphan', { labels: { backup: 'hourly' } });
    await fx.pvc(labelled, 'data', { labels: { backup: 'hourly' }, volumeName: faulted });
    await fx.source(labelled, 'data', { sourcePVC: 'data', trigger: { schedule: '0 * * * *' }, restic: { repository: 'data-volsync-secret' } });
    await fx.secret(labelled, 'data-volsync-secret', { RESTIC_REPOSITORY: 's3:http://rustfs:9000/volsync-backup/x/data', RESTIC_PASSWORD: PASSWORD, AWS_SECRET_ACCESS_KEY: ACCESS_KEY });
    // 2. Repository secrets: one missing, one without RESTIC_PASSWORD.
    await fx.pvc(labelled, 'media');
    await fx.source(labelled, 'media', { sourcePVC: 'media', trigger: { schedule: '0 * * * *' }, restic: { repository: 'media-volsync-secret' } });
    await fx.pvc(labelled, 'photos');
    await fx.source(labelled, 'photos', { sourcePVC: 'photos', trigger: { schedule: '0 * * * *' }, restic: { repository: 'photos-volsync-secret' } });
    await fx.secret(labelled, 'photos-volsync-secret', { RESTIC_REPOSITORY: 's3:http://rustfs:9000/volsync-backup/x/photos', AWS_SECRET_ACCESS_KEY: ACCESS_KEY });
    // 3. A restore pod stuck in ContainerCreating for a day.
    await fx.pod(labelled, 'volsync-dst-media-restore-q5m9z', { 'app.kubernetes.io/created-by': 'volsync', 'job-name': 'volsync-dst-media-restore' }, {
      phase: 'Pending', startTime: iso(Date.now() - 26 * HOUR),
      containerStatuses: [{ name: 'restic', image: 'quay.io/backube/volsync:0.13.0', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } }],
    }, 'media');
    // 4. Longhorn: the data volume faulted, a VolSync cache volume unknown.
    await fx.longhornVolume(faulted, { state: 'detached', robustness: 'faulted', kubernetesStatus: { namespace: labelled, pvcName: 'data' } });
    await fx.pvc(labelled, 'volsync-data-cache', { volumeName: cacheVol });
    await fx.longhornVolume(cacheVol, { state: 'unknown', robustness: 'unknown' });
    // 5. Backrest: one replica, RWO volume, RollingUpdate; and a Recreate one for contrast.
    await fx.pvc(plain, 'backrest-data');
    await fx.deployment(plain, 'backrest', { claim: 'backrest-data' });
    await fx.pvc(plain, 'other-data');
    await fx.deployment(plain, 'other', { claim: 'other-data', strategy: 'Recreate' });
  }, { timeout: 180_000 });

  after(() => stopAll(fx, harness));

  const doctor = (ns?: string): Promise<Reply> => backupDoctor({ kube: kubeFor(harness.kubeconfigPath), pvcLabel: 'backup=hourly', now: () => new Date() }, ns);

  test('labelled PVCs without a source, with the reason and the runbook fix', async () => {
    const r = await doctor(plain);
    assert.deepEqual(validateBlocks(renderBlocks(r).blocks), []);
    const t = JSON.stringify(r.blocks);
    assert.match(t, new RegExp(`PVC \`${plain}/storage\` is labelled \`backup=hourly\` but has no ReplicationSource: namespace \`${plain}\` lacks the label \`volsync.backube/privileged-movers=true\`; the base secret \`volsync-rustfs-base\` is missing`));
    assert.match(t, new RegExp(`kubectl label namespace ${plain} volsync.backube/privileged-movers=true`));
    const l = JSON.stringify((await doctor(labelled)).blocks);
    assert.match(l, new RegExp(`PVC \`${labelled}/orphan\`.*the base secret \`volsync-rustfs-base\` is missing in \`${labelled}\` although the namespace is labelled`));
    assert.doesNotMatch(l, new RegExp(`PVC \`${labelled}/data\` is labelled`), 'a PVC with a source is fine');
  });

  test('the namespace-label fix, applied with kubectl, moves the finding on to the base secret', async () => {
    await kubectl(harness.kubeconfigPath, ['label', 'namespace', plain, 'volsync.backube/privileged-movers=true']);
    const t = JSON.stringify((await doctor(plain)).blocks);
    assert.doesNotMatch(t, /lacks the label/);
    assert.match(t, /the base secret `volsync-rustfs-base` is missing/);
    await fx.secret(plain, 'volsync-rustfs-base', { RESTIC_REPOSITORY_BASE: 's3:http://rustfs:9000/volsync-backup/' });
    const t2 = JSON.stringify((await doctor(plain)).blocks);
    assert.match(t2, /the Kyverno policy did not act on it/);
    assert.match(t2, new RegExp(`kubectl annotate pvc storage -n ${plain} kyverno.io/trigger=`));
  });

  test('repository Secrets: missing, and missing RESTIC_PASSWORD; values never shown', async () => {
    const r = await doctor(labelled);
    const t = JSON.stringify(r.blocks) + r.text;
    const secrets = await kubectl(harness.kubeconfigPath, ['get', 'secrets', '-n', labelled, '-o', 'name']);
    assert.doesNotMatch(secrets, /media-volsync-secret/);
    assert.match(t, /Source `bbdr-lab-[0-9a-f]+\/media` uses repository Secret `media-volsync-secret`, which does not exist/);
    assert.match(t, /Repository Secret `bbdr-lab-[0-9a-f]+\/photos-volsync-secret` of source `photos` has no `RESTIC_PASSWORD`/);
    assert.doesNotMatch(t, /data-volsync-secret` of source/);
    for (const v of [PASSWORD, ACCESS_KEY, 's3:http://rustfs']) assert.ok(!t.includes(v), 'a secret value leaked');
    assert.match(t, /Repository Secrets missing or incomplete: 2 \(of 3 repository Secrets\)/);
  });

  test('stuck restore pod, as kubectl shows it, with the scoped cleanup commands', async () => {
    const pods = await kubectl(harness.kubeconfigPath, ['get', 'pods', '-n', labelled, '--no-headers']);
    assert.match(pods, /volsync-dst-media-restore-q5m9z\s+0\/1\s+ContainerCreating/);
    const t = JSON.stringify((await doctor(labelled)).blocks);
    assert.match(t, /Restore pod `bbdr-lab-[0-9a-f]+\/volsync-dst-media-restore-q5m9z` \(ReplicationDestination `media-restore`\) stuck in Pending \(ContainerCreating\) for 1d 2h/);
    assert.match(t, new RegExp(`kubectl delete replicationdestination media-restore -n ${labelled}`));
  });

  test('Longhorn volumes: the faulted data volume is not to be deleted; the unknown cache volume may be', async () => {
    const cols = await kubectl(harness.kubeconfigPath, ['get', 'volumes.longhorn.io', '-n', 'longhorn-system', faulted, cacheVol, '-o', 'custom-columns=NAME:.metadata.name,STATE:.status.state,ROBUSTNESS:.status.robustness', '--no-headers']);
    assert.match(cols, new RegExp(`${faulted}\\s+detached\\s+faulted`));
    assert.match(cols, new RegExp(`${cacheVol}\\s+unknown\\s+unknown`));
    const t = JSON.stringify((await doctor(labelled)).blocks);
    assert.match(t, new RegExp(`Longhorn volume \`${faulted}\` \\(PVC \`${labelled}/data\`\\) is \\*faulted\\*.*do not delete it`));
    assert.match(t, new RegExp(`Longhorn volume \`${cacheVol}\` \\(PVC \`${labelled}/volsync-data-cache\`\\) is \\*unknown\\*.*deleting it is safe`));
    assert.match(t, new RegExp(`kubectl delete volume.longhorn.io ${cacheVol} -n longhorn-system`));
    assert.doesNotMatch(t, new RegExp(`kubectl delete volume.longhorn.io ${faulted}`));
  });

  test('RollingUpdate + one replica + RWO: the suggested kubectl patch is accepted and clears the finding', async () => {
    const r = await doctor(plain);
    const t = JSON.stringify(r.blocks);
    assert.match(t, new RegExp(`Deployment \`${plain}/backrest\` has one replica, a ReadWriteOnce volume \\(\`backrest-data\`\\) and the \`RollingUpdate\` strategy`));
    assert.doesNotMatch(t, new RegExp(`Deployment \`${plain}/other\``));
    const code = r.blocks.find((b) => b.type === 'code' && b.text.includes('kubectl patch deployment backrest'));
    assert.ok(code && code.type === 'code');
    const cmd = code.text.split('\n').find((l) => l.startsWith('kubectl patch deployment backrest'))!;
    // Run exactly what the bot suggests (the -p argument without its shell quotes).
    const m = /^kubectl patch deployment (\S+) -n (\S+) --type merge -p '(.+)'$/.exec(cmd);
    assert.ok(m, cmd);
    await kubectl(harness.kubeconfigPath, ['patch', 'deployment', m[1]!, '-n', m[2]!, '--type', 'merge', '-p', m[3]!]);
    const strategy = await kubectl(harness.kubeconfigPath, ['get', 'deployment', 'backrest', '-n', plain, '-o', 'jsonpath={.spec.strategy}']);
    assert.deepEqual(JSON.parse(strategy), { type: 'Recreate' });
    assert.doesNotMatch(JSON.stringify((await doctor(plain)).blocks), /Deployment `bbdr-plain-[0-9a-f]+\/backrest`/);
  });

  test('unknown namespace: one clear line', async () => {
    const r = await doctor(`${plain}-nope`);
    assert.equal(r.tone, 'error');
    assert.match(r.text, /There is no namespace `bbdr-plain-[0-9a-f]+-nope`/);
  });

  /** A service account with `rules` cluster-wide (and `roles` per namespace), seen through a real token. */
  async function kubeAs(name: string, rules: V1PolicyRule[], roles: Array<{ namespace: string; rules: V1PolicyRule[] }> = []): Promise<Kube> {
    const rbac = rbacApi();
    const sa = uniq(name);
    const kube = await serviceAccountKube(harness.kubeconfigPath, labelled, sa);
    const subjects = [{ kind: 'ServiceAccount', name: sa, namespace: labelled }];
    await rbac.createClusterRole({ body: { metadata: { name: sa }, rules } });
    clusterRoles.push(sa);
    await rbac.createClusterRoleBinding({ body: { metadata: { name: sa }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: sa }, subjects } });
    for (const r of roles) {
      await rbac.createNamespacedRole({ namespace: r.namespace, body: { metadata: { name: sa }, rules: r.rules } });
      await rbac.createNamespacedRoleBinding({ namespace: r.namespace, body: { metadata: { name: sa }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: sa }, subjects } });
    }
    return kube;
  }
  const clusterRoles: string[] = [];
  function rbacApi(): RbacAuthorizationV1Api {
    const kc = new KubeConfig();
    kc.loadFromFile(harness.kubeconfigPath);
    return kc.makeApiClient(RbacAuthorizationV1Api);
  }
  after(async () => {
    if (!harness) return;
    const rbac = rbacApi();
    for (const name of clusterRoles) {
      await rbac.deleteClusterRoleBinding({ name }).catch(() => undefined);
      await rbac.deleteClusterRole({ name }).catch(() => undefined);
    }
  });
  const doctorAs = (kube: Kube, ns?: string): Promise<Reply> => backupDoctor({ kube, pvcLabel: 'backup=hourly', now: () => new Date() }, ns);

  test('with the deployed RBAC (get Secrets by name, never list): the same Secret findings, no advice to grant list', async () => {
    const rules = deployedRules();
    const secretRules = rules.filter((r) => r.resources?.includes('secrets'));
    assert.ok(secretRules.length > 0 && secretRules.every((r) => !r.verbs.includes('list') && !r.verbs.includes('watch') && !r.verbs.includes('*')), 'deploy/rbac.yaml never lists or watches Secrets');
    const kube = await kubeAs('bbdr-deployed', rules);
    for (const ns of [labelled, undefined]) {
      const r = await doctorAs(kube, ns);
      const t = JSON.stringify(r.blocks) + r.text;
      assert.deepEqual(validateBlocks(renderBlocks(r).blocks), []);
      assert.match(t, new RegExp(`Source \`${labelled}/media\` uses repository Secret \`media-volsync-secret\`, which does not exist`));
      assert.match(t, new RegExp(`Repository Secret \`${labelled}/photos-volsync-secret\` of source \`photos\` has no \`RESTIC_PASSWORD\``));
      assert.doesNotMatch(t, /data-volsync-secret` of source/);
      assert.match(t, new RegExp(`PVC \`${labelled}/orphan\`.*the base secret \`volsync-rustfs-base\` is missing in \`${labelled}\` although the namespace is labelled`));
      assert.doesNotMatch(t, /list Secrets|[Ss]ecrets? (is|are) forbidden|cannot list/);
      for (const v of [PASSWORD, ACCESS_KEY, 's3:http://rustfs']) assert.ok(!t.includes(v), 'a secret value leaked');
      if (ns) assert.match(t, /Repository Secrets missing or incomplete: 2 \(of 3 repository Secrets\)/);
    }
  });

  test('a Secret the bot may not read is a finding for its source, not advice to grant cluster-wide list', async () => {
    const withoutSecrets = deployedRules().map((r) => ({ ...r, resources: r.resources?.filter((x) => x !== 'secrets') })).filter((r) => (r.resources?.length ?? 1) > 0);
    // get on the named Secrets of the namespace, except the data source's.
    const kube = await kubeAs('bbdr-named', withoutSecrets, [{ namespace: labelled, rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'], resourceNames: ['photos-volsync-secret', 'media-volsync-secret', 'volsync-rustfs-base'] }] }]);
    const r = await doctorAs(kube, labelled);
    const t = JSON.stringify(r.blocks) + r.text;
    assert.deepEqual(validateBlocks(renderBlocks(r).blocks), []);
    assert.match(t, new RegExp(`Source \`${labelled}/data\` uses repository Secret \`data-volsync-secret\`, which the bot may not read \\(403`));
    assert.match(t, new RegExp(`kubectl auth can-i get secret/data-volsync-secret -n ${labelled} --as=system:serviceaccount:`));
    assert.match(t, new RegExp(`Source \`${labelled}/media\` uses repository Secret \`media-volsync-secret\`, which does not exist`));
    assert.match(t, new RegExp(`Repository Secret \`${labelled}/photos-volsync-secret\` of source \`photos\` has no \`RESTIC_PASSWORD\``));
    assert.match(t, /Repository Secrets missing or incomplete: 3 \(of 3 repository Secrets\)/);
    assert.doesNotMatch(t, /list Secrets|cannot list|Grant the bot's service account/);
    for (const v of [PASSWORD, ACCESS_KEY, 's3:http://rustfs']) assert.ok(!t.includes(v), 'a secret value leaked');
  });

  test('all namespaces: one valid message', async () => {
    const r = await doctor();
    assert.deepEqual(validateBlocks(renderBlocks(r).blocks), []);
    assert.match(r.text, /findings/);
  });
});
