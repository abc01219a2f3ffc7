// The Kubernetes harness itself: a real kube-apiserver + etcd, CRDs from test/fixtures/crds, token
// auth with RBAC, status subresources, and processes that are gone after stop(). It always starts
// its own server (it is the harness under test), even when the run shares one.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import {
  ApiextensionsV1Api,
  AuthenticationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { kubeUnavailableReason } from '../harness/kube/kube-for-tests.ts';
import { kubeRequest } from '../harness/kube/kube-http.ts';
import { kubectl } from '../harness/kube/kubectl.ts';
import { processAlive } from '../harness/kube/process-alive.ts';
import { seedSampleData } from '../harness/kube/sample-data.ts';
import { startKube, type KubeHarness } from '../harness/kube/start-kube.ts';
import { stopAll } from '../harness/stop-all.ts';

const skipReason = await kubeUnavailableReason();

const EXPECTED_CRDS = [
  'perconaservermysqlbackups.ps.percona.com',
  'perconaservermysqlrestores.ps.percona.com',
  'replicationdestinations.volsync.backube',
  'replicationsources.volsync.backube',
  'volumes.longhorn.io',
];
const VOLSYNC = { group: 'volsync.backube', version: 'v1alpha1', plural: 'replicationsources' };
const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

const isRunning = processAlive;

async function waitUntil(cond: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return cond();
}

describe('kube harness', () => {
  let kube: KubeHarness;
  let kc: KubeConfig;
  const ns = `harness-${process.pid}-${Date.now().toString(36)}`;

  before(async () => {
    if (skipReason) return;
    kube = await startKube({ log: (l) => process.stderr.write(`[kube] ${l}\n`) });
    kc = new KubeConfig();
    kc.loadFromFile(kube.kubeconfigPath);
  }, { timeout: 180_000 });

  after(() => stopAll(kube));

  test('serves on loopback with a CA-verified certificate and token auth', { skip: skipReason }, async () => {
    assert.match(kube.server, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.ok(kube.caFile && existsSync(kube.caFile));
    const ca = await readFile(kube.caFile, 'utf8');
    const version = await kubeRequest({ server: kube.server, token: kube.token, ca }, 'GET', '/version');
    assert.equal(version.status, 200);
    assert.equal((JSON.parse(version.body) as { gitVersion: string }).gitVersion, 'v1.35.4');
    const denied = await kubeRequest({ server: kube.server, token: 'not-the-token', ca }, 'GET', '/api/v1/namespaces');
    assert.equal(denied.status, 401);
    const review = await kc.makeApiClient(AuthenticationV1Api).createSelfSubjectReview({ body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } });
    assert.ok(review.status?.userInfo?.groups?.includes('system:masters'));
  });

  test('kubeconfig does not skip TLS verification', { skip: skipReason }, async () => {
    const text = await readFile(kube.kubeconfigPath, 'utf8');
    assert.doesNotMatch(text, /insecure-skip-tls-verify/);
    assert.match(text, /certificate-authority-data/);
  });

  test('every fixture CRD is installed and Established', { skip: skipReason }, async () => {
    assert.deepEqual([...kube.crds].sort(), EXPECTED_CRDS);
    const list = await kc.makeApiClient(ApiextensionsV1Api).listCustomResourceDefinition();
    for (const name of EXPECTED_CRDS) {
      const crd = list.items.find((c) => c.metadata?.name === name);
      assert.ok(crd, `${name} missing`);
      const established = crd.status?.conditions?.find((c) => c.type === 'Established');
      assert.equal(established?.status, 'True', `${name} not Established`);
    }
  });

  test('ReplicationSource: schema enforced, unknown fields kept, status only via subresource', { skip: skipReason }, async () => {
    const core = kc.makeApiClient(CoreV1Api);
    const custom = kc.makeApiClient(CustomObjectsApi);
    await core.createNamespace({ body: { metadata: { name: ns, labels: { 'volsync.backube/privileged-movers': 'true' } } } });

    await assert.rejects(
      custom.createNamespacedCustomObject({
        ...VOLSYNC,
        namespace: ns,
        body: { apiVersion: 'volsync.backube/v1alpha1', kind: 'ReplicationSource', metadata: { name: 'bad' }, spec: { sourcePVC: 'x', restic: { copyMethod: 'Teleport' } } },
      }),
      (err: { code?: number }) => err.code === 422,
    );

    await custom.createNamespacedCustomObject({
      ...VOLSYNC,
      namespace: ns,
      body: {
        apiVersion: 'volsync.backube/v1alpha1',
        kind: 'ReplicationSource',
        metadata: { name: 'data' },
        spec: {
          sourcePVC: 'data',
          trigger: { schedule: '0 * * * *' },
          restic: { repository: 'data-volsync-secret', unlock: 'tok-1', copyMethod: 'Clone', moverPriorityClassName: 'high' },
        },
        status: { lastSyncTime: '2020-01-01T00:00:00Z' },
      },
    });
    const created = (await custom.getNamespacedCustomObject({ ...VOLSYNC, namespace: ns, name: 'data' })) as {
      spec: { restic: Record<string, unknown> };
      status?: unknown;
    };
    assert.equal(created.spec.restic['unlock'], 'tok-1');
    assert.equal(created.spec.restic['moverPriorityClassName'], 'high');
    assert.equal(created.status, undefined, 'status in a create must be dropped when the status subresource is on');

    await custom.patchNamespacedCustomObjectStatus(
      {
        ...VOLSYNC,
        namespace: ns,
        name: 'data',
        body: { status: { lastSyncTime: '2026-01-18T02:00:47Z', lastSyncDuration: '47s', latestMoverStatus: { result: 'Failed', logs: 'repository is already locked' }, restic: { lastUnlocked: 'tok-1' } } },
      },
      merge,
    );
    const patched = (await custom.getNamespacedCustomObject({ ...VOLSYNC, namespace: ns, name: 'data' })) as {
      status: { lastSyncTime: string; latestMoverStatus: { result: string }; restic: { lastUnlocked: string } };
    };
    assert.equal(patched.status.lastSyncTime, '2026-01-18T02:00:47Z');
    assert.equal(patched.status.latestMoverStatus.result, 'Failed');
    assert.equal(patched.status.restic.lastUnlocked, 'tok-1');

    const table = await kubectl(kube.kubeconfigPath, ['get', 'replicationsources', '-n', ns]);
    assert.match(table, /NAME\s+SOURCE\s+LAST SYNC\s+DURATION\s+NEXT SYNC/);
    assert.match(table, /data\s+data\s+2026-01-18T02:00:47Z\s+47s/);
  });

  test('Pod status is set through the status subresource (no kubelet)', { skip: skipReason }, async () => {
    const core = kc.makeApiClient(CoreV1Api);
    await core.createNamespacedPod({
      namespace: ns,
      body: { metadata: { name: 'volsync-src-data-abcde' }, spec: { containers: [{ name: 'restic', image: 'quay.io/backube/volsync:0.13.0' }] } },
    });
    const fresh = await core.readNamespacedPod({ namespace: ns, name: 'volsync-src-data-abcde' });
    assert.equal(fresh.status?.phase, 'Pending');
    await core.patchNamespacedPodStatus(
      {
        namespace: ns,
        name: 'volsync-src-data-abcde',
        body: {
          status: {
            phase: 'Pending',
            containerStatuses: [{ name: 'restic', image: 'quay.io/backube/volsync:0.13.0', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } }],
          },
        },
      },
      merge,
    );
    const pod = await core.readNamespacedPod({ namespace: ns, name: 'volsync-src-data-abcde' });
    assert.equal(pod.status?.containerStatuses?.[0]?.state?.waiting?.reason, 'ContainerCreating');
  });

  test('sample data seeds and re-seeds idempotently', { skip: skipReason }, async () => {
    const first = await seedSampleData(kube.kubeconfigPath);
    const second = await seedSampleData(kube.kubeconfigPath);
    assert.deepEqual(second, first);
    assert.ok(first.replicationSources.includes('media/plex'));
    const custom = kc.makeApiClient(CustomObjectsApi);
    const plex = (await custom.getNamespacedCustomObject({ ...VOLSYNC, namespace: 'media', name: 'plex' })) as {
      status: { latestMoverStatus: { result: string; logs: string } };
    };
    assert.equal(plex.status.latestMoverStatus.result, 'Failed');
    assert.match(plex.status.latestMoverStatus.logs, /repository is already locked by PID 32 on volsync-src-plex-nzlv6 by root \(UID 0, GID 0\)/);
    const core = kc.makeApiClient(CoreV1Api);
    const stuck = await core.readNamespacedPod({ namespace: 'karakeep', name: 'volsync-src-meilisearch-pvc-w8k4d' });
    assert.equal(stuck.status?.containerStatuses?.[0]?.state?.waiting?.reason, 'ContainerCreating');
    const unlabelled = await core.readNamespace({ name: 'open-webui' });
    assert.equal(unlabelled.metadata?.labels?.['volsync.backube/privileged-movers'], undefined);
    const secret = await core.readNamespacedSecret({ namespace: 'media', name: 'plex-volsync-secret' });
    assert.ok(secret.data?.['RESTIC_REPOSITORY'] && secret.data['RESTIC_PASSWORD']);
    const faulted = (await custom.listNamespacedCustomObject({ group: 'longhorn.io', version: 'v1beta2', plural: 'volumes', namespace: 'longhorn-system' })) as {
      items: { status?: { robustness?: string; kubernetesStatus?: { pvcName?: string } } }[];
    };
    const bad = faulted.items.filter((v) => v.status?.robustness === 'faulted');
    assert.deepEqual(bad.map((v) => v.status?.kubernetesStatus?.pvcName), ['meilisearch-pvc']);
  });

  test('stop() ends etcd and kube-apiserver and removes its temp dir', { skip: skipReason }, async () => {
    const { etcd, apiserver } = kube.pids;
    assert.ok(isRunning(etcd) && isRunning(apiserver));
    await kube.stop();
    assert.equal(isRunning(etcd), false, 'etcd still running');
    assert.equal(isRunning(apiserver), false, 'kube-apiserver still running');
    assert.equal(existsSync(kube.dataDir), false);
  });
});

describe('kube harness process lifetime', () => {
  test('etcd and kube-apiserver die when the Node process that started them is SIGKILLed', { skip: skipReason, timeout: 180_000 }, async () => {
    const startKubeUrl = new URL('../harness/kube/start-kube.ts', import.meta.url).href;
    const script = `
      const { startKube } = await import(${JSON.stringify(startKubeUrl)});
      const kube = await startKube({ crdDir: false });
      process.stdout.write(JSON.stringify({ ...kube.pids, dataDir: kube.dataDir }) + '\\n');
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    const started = await waitUntil(() => out.includes('\n') || child.exitCode !== null, 150_000);
    assert.ok(started && out.includes('\n'), `child did not report its control plane: ${out}`);
    const info = JSON.parse(out.trim()) as { etcd: number; apiserver: number; dataDir: string };
    try {
      assert.ok(isRunning(info.etcd) && isRunning(info.apiserver));
      child.kill('SIGKILL');
      assert.ok(await waitUntil(() => !isRunning(info.etcd) && !isRunning(info.apiserver), 10_000), 'control plane outlived its parent');
    } finally {
      for (const pid of [info.etcd, info.apiserver]) if (isRunning(pid)) process.kill(pid, 'SIGKILL');
      await rm(info.dataDir, { recursive: true, force: true });
    }
  });
});
