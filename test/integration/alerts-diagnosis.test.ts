// Diagnoses of crash-looping pods created on a real API server (no kubelet: statuses go through
// the status subresource); the previous container's log is served by nock at the HTTP boundary,
// every other request reaches the real server.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import nock from 'nock';
import type { V1Pod } from '@kubernetes/client-node';
import { kubeUnavailableReason } from '../harness/kube/index.ts';
import type { KubeHarness } from '../harness/kube/index.ts';
import { validateBlocks } from '../harness/slack/slack-stand-in.ts';
import { MERGE_PATCH } from '../../src/kube/client.ts';
import type { Kube } from '../../src/kube/client.ts';
import { DEFAULT_PATTERNS } from '../../src/alerts/classify.ts';
import { BackupFacts } from '../../src/backup-window/facts.ts';
import { cachedMoverPods } from '../../src/volsync/mover-pods.ts';
import { ButtonSigner } from '../../src/alerts/button-values.ts';
import { Diagnoser } from '../../src/alerts/diagnoser.ts';
import { previousLogReader } from '../../src/alerts/pod-log.ts';
import { renderBlocks } from '../../src/slack/render-blocks.ts';
import type { WindowConfig } from '../../src/config.ts';
import type { Reply } from '../../src/reply.ts';
import { kubeWithNamespaces } from '../harness/kube-objects.ts';

const skip = await kubeUnavailableReason();
const NS = `diag-${process.pid}`;
const MOVER_NS = `diagmedia-${process.pid}`;
const MIN = 60_000;

const BACKREST_LOG = [
  'INFO    backrest starting    {"version": "v1.12.0"}',
  'INFO    restic binary "/bin/restic" in $PATH matches required version...',
  'FATAL    oplog is locked by another instance of backrest    {"data_dir": "/data"}',
].join('\n');

function hhmm(d: Date): string {
  return `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
}

function openWindowNow(): WindowConfig {
  const now = Date.now();
  return {
    name: 'pbs', zone: 'UTC', days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'],
    start: hhmm(new Date(now - 10 * MIN)), end: hhmm(new Date(now + 60 * MIN)),
    mode: 'annotate', transientPods: ['kube-scheduler-.*'], namespaces: [], graceMinutes: 15,
  };
}

function closedWindow(): WindowConfig {
  const now = Date.now();
  return { ...openWindowNow(), start: hhmm(new Date(now + 120 * MIN)), end: hhmm(new Date(now + 180 * MIN)) };
}

const text = (r: Reply) => JSON.stringify(renderBlocks(r).blocks);

describe('crash-loop diagnosis against a real API server', { skip }, () => {
  let harness: KubeHarness;
  let kube: Kube;

  async function deployment(name: string, container: { name: string; memory?: string; cpu?: string }) {
    const resources = { limits: { ...(container.memory ? { memory: container.memory } : {}) }, requests: { ...(container.cpu ? { cpu: container.cpu } : {}) } };
    const dep = await kube.apps.createNamespacedDeployment({
      namespace: NS,
      body: {
        metadata: { name },
        spec: {
          replicas: 1,
          strategy: { type: 'RollingUpdate' },
          selector: { matchLabels: { app: name } },
          template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: container.name, image: `ghcr.io/example/${name}:1.0`, resources }] } },
        },
      },
    });
    const rs = await kube.apps.createNamespacedReplicaSet({
      namespace: NS,
      body: {
        metadata: { name: `${name}-5d8c7b9f6d`, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name, uid: dep.metadata!.uid!, controller: true }] },
        spec: { replicas: 1, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: container.name, image: `ghcr.io/example/${name}:1.0`, resources }] } } },
      },
    });
    return { dep, rs, resources };
  }

  async function crashingPod(name: string, owner: { rsName: string; rsUid: string; container: string; resources: object }, status: Record<string, unknown>): Promise<V1Pod> {
    const pod = await kube.core.createNamespacedPod({
      namespace: NS,
      body: {
        metadata: { name, labels: { app: owner.container }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: owner.rsName, uid: owner.rsUid, controller: true }] },
        spec: { containers: [{ name: owner.container, image: `ghcr.io/example/${owner.container}:1.0`, resources: owner.resources }] },
      },
    });
    await kube.core.patchNamespacedPodStatus({ name, namespace: NS, body: { status } }, MERGE_PATCH);
    return pod;
  }

  async function event(pod: V1Pod, reason: string, message: string, count: number, agoMs: number) {
    const at = new Date(Date.now() - agoMs);
    await kube.core.createNamespacedEvent({
      namespace: NS,
      body: {
        metadata: { name: `${pod.metadata!.name}.${reason.toLowerCase()}${count}` },
        involvedObject: { kind: 'Pod', name: pod.metadata!.name!, namespace: NS, uid: pod.metadata!.uid! },
        reason, message, type: reason === 'BackOff' ? 'Warning' : 'Normal', count,
        firstTimestamp: new Date(at.getTime() - 30 * MIN), lastTimestamp: at, source: { component: 'kubelet' },
      },
    });
  }

  function diagnoser(windows: WindowConfig[]) {
    return new Diagnoser({
      kube,
      patterns: DEFAULT_PATTERNS,
      backup: new BackupFacts({ moverPods: cachedMoverPods(kube), windows }),
      signer: new ButtonSigner('xoxb-test-token'),
      buttonTtlMs: 12 * 3600_000,
    });
  }

  function mockLog(pod: string, container: string, reply: [number, string]) {
    return nock(harness.server, { allowUnmocked: true })
      .get(`/api/v1/namespaces/${NS}/pods/${pod}/log`)
      .query((q) => q['previous'] === 'true' && q['container'] === container && Number(q['tailLines']) > 0 && Number(q['limitBytes']) > 0)
      .reply(reply[0], reply[1], { 'content-type': 'text/plain' });
  }

  before(async () => {
    ({ harness, kube } = await kubeWithNamespaces(NS, MOVER_NS));
    // A backup running right now: a VolSync mover pod, Running since 02:04-ish.
    await kube.core.createNamespacedPod({
      namespace: MOVER_NS,
      body: { metadata: { name: 'volsync-src-plex-nzlv6', labels: { 'app.kubernetes.io/created-by': 'volsync' } }, spec: { containers: [{ name: 'restic', image: 'quay.io/backube/volsync:0.13' }] } },
    });
    await kube.core.patchNamespacedPodStatus({ name: 'volsync-src-plex-nzlv6', namespace: MOVER_NS, body: { status: { phase: 'Running', startTime: new Date(Date.now() - 38 * MIN).toISOString() } } }, MERGE_PATCH);
  }, { timeout: 180_000 });

  after(async () => {
    nock.cleanAll();
    await harness?.stop();
  });
  afterEach(() => nock.cleanAll());

  it('Backrest oplog lock: classification with the Recreate fix first, then restarts, exit code, owner, resources, events, backup evidence and the log tail', async () => {
    const { dep, rs, resources } = await deployment('backrest', { name: 'backrest', memory: '256Mi', cpu: '100m' });
    assert.ok(dep.metadata?.uid);
    const pod = await crashingPod('backrest-5d8c7b9f6d-abcde', { rsName: rs.metadata!.name!, rsUid: rs.metadata!.uid!, container: 'backrest', resources }, {
      phase: 'Running',
      containerStatuses: [{
        name: 'backrest', ready: false, restartCount: 7, image: 'ghcr.io/example/backrest:1.0', imageID: '',
        state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 5m0s restarting failed container=backrest' } },
        lastState: { terminated: { exitCode: 1, reason: 'Error', startedAt: new Date(Date.now() - 4 * MIN).toISOString(), finishedAt: new Date(Date.now() - 3 * MIN).toISOString() } },
      }],
    });
    await event(pod, 'BackOff', 'Back-off restarting failed container backrest in pod backrest-5d8c7b9f6d-abcde', 12, 2 * MIN);
    await event(pod, 'Pulled', 'Container image "ghcr.io/example/backrest:1.0" already present on machine', 8, 5 * MIN);
    const logs = mockLog('backrest-5d8c7b9f6d-abcde', 'backrest', [200, `${BACKREST_LOG}\n`]);

    const r = await diagnoser([closedWindow()]).diagnose({ namespace: NS, pod: 'backrest-5d8c7b9f6d-abcde', labels: { alertname: 'KubePodCrashLooping', namespace: NS, pod: 'backrest-5d8c7b9f6d-abcde' } });
    assert.ok(logs.isDone(), 'the previous log was asked for with previous=true, the container and bounds');
    const rendered = renderBlocks(r);
    assert.deepEqual(validateBlocks(rendered.blocks), []);
    const all = text(r);
    // The classification and its next step come first.
    const first = JSON.stringify(rendered.blocks.slice(0, 2));
    assert.match(first, /Backrest oplog locked by another instance/);
    assert.match(first, /Recreate/);
    assert.match(first, /patch deployment backrest/);
    assert.match(all, /Restarts: \*7\*/);
    assert.match(all, /Waiting: CrashLoopBackOff/);
    assert.match(all, /Last exit: Error, code 1/);
    assert.match(all, /Owner: Deployment `backrest` · strategy RollingUpdate · 1 replica/);
    assert.match(all, /requests cpu 100m · limits memory 256Mi/);
    assert.match(all, /BackOff\* ×12 · 2m ago: Back-off restarting failed container/);
    assert.match(all, new RegExp(`Backup of \`${MOVER_NS}/plex\` running since \\d\\d:\\d\\d UTC \\(38m\\): \`volsync-src-plex-nzlv6\``));
    assert.match(all, /oplog is locked by another instance of backrest/);
    assert.match(all, /No backup window is open; the next, \*pbs\*, opens/);
    // Window closed and the pattern is not transient: only the 1 h and 4 h buttons.
    const actions = rendered.blocks.at(-1) as { type: string; elements: Array<{ text: { text: string } }> };
    assert.equal(actions.type, 'actions');
    assert.deepEqual(actions.elements.map((e) => e.text.text), ['Silence 1 h', 'Silence 4 h']);
  });

  it('OOMKilled: the current memory limit and the next tier, from the Deployment template', async () => {
    const { rs, resources } = await deployment('grafana', { name: 'grafana', memory: '256Mi' });
    await crashingPod('grafana-5d8c7b9f6d-qwert', { rsName: rs.metadata!.name!, rsUid: rs.metadata!.uid!, container: 'grafana', resources }, {
      phase: 'Running',
      containerStatuses: [{
        name: 'grafana', ready: false, restartCount: 3, image: 'ghcr.io/example/grafana:1.0', imageID: '',
        state: { waiting: { reason: 'CrashLoopBackOff' } },
        lastState: { terminated: { exitCode: 137, reason: 'OOMKilled', finishedAt: new Date(Date.now() - MIN).toISOString() } },
      }],
    });
    mockLog('grafana-5d8c7b9f6d-qwert', 'grafana', [200, 'level=info msg="starting"\n']);
    const r = await diagnoser([closedWindow()]).diagnose({ namespace: NS, pod: 'grafana-5d8c7b9f6d-qwert', container: 'grafana', labels: { alertname: 'KubePodCrashLooping', namespace: NS, pod: 'grafana-5d8c7b9f6d-qwert', container: 'grafana' } });
    const all = text(r);
    assert.match(all, /Out of memory \(OOMKilled\)/);
    assert.match(all, /from 256Mi to 512Mi/);
    assert.match(all, /Last exit: OOMKilled, code 137/);
  });

  it('an open backup window and a known transient pod: the window is evidence and "until the window ends" is offered', async () => {
    const pod = await kube.core.createNamespacedPod({ namespace: NS, body: { metadata: { name: 'kube-scheduler-talos-monitor' }, spec: { containers: [{ name: 'kube-scheduler', image: 'registry.k8s.io/kube-scheduler:v1.35.0' }] } } });
    await kube.core.patchNamespacedPodStatus({ name: pod.metadata!.name!, namespace: NS, body: { status: { phase: 'Running', containerStatuses: [{
      name: 'kube-scheduler', ready: false, restartCount: 4, image: 'registry.k8s.io/kube-scheduler:v1.35.0', imageID: '',
      state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 1, reason: 'Error' } },
    }] } } }, MERGE_PATCH);
    mockLog('kube-scheduler-talos-monitor', 'kube-scheduler', [200, [
      'E0226 02:14:03.123456       1 leaderelection.go:340] error retrieving resource lock kube-system/kube-scheduler: Get "https://127.0.0.1:7445/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-scheduler?timeout=5s": context deadline exceeded',
      'E0226 02:14:03.200000       1 server.go:241] "Leaderelection lost"',
    ].join('\n')]);
    const r = await diagnoser([openWindowNow()]).diagnose({ namespace: NS, pod: 'kube-scheduler-talos-monitor', labels: { alertname: 'KubePodCrashLooping', namespace: NS, pod: 'kube-scheduler-talos-monitor' } });
    const rendered = renderBlocks(r);
    const all = JSON.stringify(rendered.blocks);
    assert.match(all, /127\.0\.0\.1:7445/);
    assert.match(all, /Backup window \*pbs\* is open/);
    assert.match(all, /`kube-scheduler-talos-monitor` is a known transient crasher in this window/);
    const actions = rendered.blocks.at(-1) as { elements: Array<{ text: { text: string } }> };
    assert.match(actions.elements[0]!.text.text, /^Silence until pbs ends \(\d\d:\d\d UTC\)$/);
    assert.equal(actions.elements.length, 3);
  });

  it('a pod that no longer exists: said so, with its events; no log is asked for', async () => {
    const r = await diagnoser([closedWindow()]).diagnose({ namespace: NS, pod: 'gone-5d8c7b9f6d-zzzzz', labels: { alertname: 'KubePodCrashLooping', namespace: NS, pod: 'gone-5d8c7b9f6d-zzzzz' } });
    assert.match(text(r), /no longer exists \(replaced or deleted\)/);
    assert.match(text(r), /Unrecognised crash/);
  });

  it('the log reader: "no previous container" from the API server\'s 400, and bounded tail lines', async () => {
    const read = previousLogReader(kube, { lines: 3, limitBytes: 64 });
    nock(harness.server).get(`/api/v1/namespaces/${NS}/pods/p1/log`).query(true)
      .reply(400, { kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'previous terminated container "app" in pod "p1" not found', reason: 'BadRequest', code: 400 });
    assert.deepEqual(await read({ namespace: NS, pod: 'p1', container: 'app' }), { unavailable: 'no previous container: it has not terminated since the pod started' });
    const long = `${'x'.repeat(40)}\nline two\nline three\nline four ${'y'.repeat(600)}\n`;
    nock(harness.server).get(`/api/v1/namespaces/${NS}/pods/p2/log`).query((q) => q['tailLines'] === '3' && q['limitBytes'] === '64').reply(200, long, { 'content-type': 'text/plain' });
    const got = await read({ namespace: NS, pod: 'p2' });
    assert.ok('lines' in got);
    assert.equal(got.lines.length, 3);
    assert.equal(got.lines[2]!.length, 500, 'each line is capped');
    assert.ok(got.lines[2]!.endsWith('…'));
  });
});
