/**
 * /backup status at scale: a private real API server seeded with N namespaces × 5
 * ReplicationSources (with PVCs, Longhorn volumes and some mover pods), the real bot process in
 * HTTP mode, and the Slack stand-in. Times the command end to end (signed slash command → reply on
 * response_url), cold (the first command after the bot starts) and warm (watch cache synced),
 * against `kubectl get replicationsources -A -o json` on the same server in the same run, and
 * counts the API requests per command from the API server's own apiserver_request_total.
 * The request count is taken at a small and at the full size: it must not grow with namespaces.
 *
 *   node bench/status.ts [--namespaces 1000] [--small 100] [--per-namespace 5] [--runs 5]
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { ensureKubeBinaries } from '../test/harness/kube/build-binaries.ts';
import { startBotProcess } from '../test/harness/bot-process.ts';
import type { BotProcess } from '../test/harness/bot-process.ts';
import { startSlackStandIn } from '../test/harness/slack/slack-stand-in.ts';
import type { SlackStandIn } from '../test/harness/slack/slack-stand-in.ts';
import { must, pool, withApiServer } from './kube-api.ts';
import { benchFlags } from './args.ts';
import type { Api } from './kube-api.ts';

const args = benchFlags({ numbers: { namespaces: 1000, small: 100, 'per-namespace': 5, runs: 5, concurrency: 24 } });
const NAMESPACES = args.namespaces;
const SMALL = Math.min(args.small, NAMESPACES);
const PER_NS = args['per-namespace'];
const RUNS = args.runs;
const CONCURRENCY = args.concurrency;
const BOT_TOKEN = 'xoxb-8000000001-8000000002-statusbenchbottoken';
const SIGNING = 'status-bench-signing-secret';
const HOUR = 3_600_000;

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const line = (name: string, value: string, ratio: string, reference: string) =>
  console.log(`${name.padEnd(40)} ${value.padEnd(14)} ${ratio.padEnd(14)} ${reference}`);
const info = (s: string) => process.stderr.write(`[bench] ${s}\n`);

const SUCCESS_LOG = 'using parent snapshot 2a7e4c1b\nFiles: 3 new, 12 changed, 1834 unmodified\nAdded to the repository: 12.4 MiB\nsnapshot 9c3f0e27 saved\nRestic completed in 47s\n=== Done ===';
const FAIL_LOG = 'repo already locked, waiting up to 0s for the lock\nunable to create lock in backend: repository is already locked by PID 32 on volsync-src-x by root\nERROR: failed to run backup';

/** Namespaces [from, to): each with PER_NS PVCs, Longhorn volumes and sources; a mover pod in every 10th. */
async function seed(api: Api, from: number, to: number): Promise<void> {
  const now = Date.now();
  const namespaces = Array.from({ length: to - from }, (_, i) => `bench-${String(from + i).padStart(4, '0')}`);
  const started = Date.now();
  await pool(namespaces, CONCURRENCY, (ns) => must(api, 'POST', '/api/v1/namespaces', { metadata: { name: ns, labels: { 'volsync.backube/privileged-movers': 'true' } } }));
  const work: Array<{ ns: string; i: number; k: number }> = [];
  namespaces.forEach((ns, n) => { for (let i = 0; i < PER_NS; i++) work.push({ ns, i, k: (from + n) * PER_NS + i }); });
  await pool(work, CONCURRENCY, async ({ ns, i, k }) => {
    const name = `app-${i}`;
    const volume = `pvc-bench-${String(k).padStart(6, '0')}`;
    await must(api, 'POST', `/api/v1/namespaces/${ns}/persistentvolumeclaims`, {
      metadata: { name, labels: { backup: 'hourly' } },
      spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'longhorn', volumeName: volume, resources: { requests: { storage: '1Gi' } } },
    });
    await must(api, 'POST', '/apis/longhorn.io/v1beta2/namespaces/longhorn-system/volumes', { apiVersion: 'longhorn.io/v1beta2', kind: 'Volume', metadata: { name: volume }, spec: { numberOfReplicas: 3 } });
    await must(api, 'PATCH', `/apis/longhorn.io/v1beta2/namespaces/longhorn-system/volumes/${volume}/status`, { status: { state: k % 97 === 0 ? 'detached' : 'attached', robustness: k % 97 === 0 ? 'faulted' : 'healthy' } }, 'application/merge-patch+json');
    await must(api, 'POST', `/apis/volsync.backube/v1alpha1/namespaces/${ns}/replicationsources`, {
      apiVersion: 'volsync.backube/v1alpha1', kind: 'ReplicationSource', metadata: { name },
      spec: { sourcePVC: name, trigger: { schedule: '0 * * * *' }, restic: { repository: `${name}-volsync-secret`, copyMethod: 'Clone', pruneIntervalDays: 7, retain: { hourly: 24, daily: 7 } } },
    });
    const failed = k % 50 === 0;
    const overdue = k % 37 === 0;
    const lastSync = overdue ? now - 6 * HOUR : now - 20 * 60_000;
    await must(api, 'PATCH', `/apis/volsync.backube/v1alpha1/namespaces/${ns}/replicationsources/${name}/status`, {
      status: {
        lastSyncStartTime: iso(lastSync - 47_000), lastSyncTime: iso(lastSync), lastSyncDuration: '47.218s', nextSyncTime: iso(now + 40 * 60_000),
        latestMoverStatus: { result: failed ? 'Failed' : 'Successful', logs: failed ? FAIL_LOG : SUCCESS_LOG },
        conditions: [{ type: 'Synchronizing', status: 'False', reason: 'WaitingForSchedule', message: 'Waiting for next scheduled synchronization', lastTransitionTime: iso(lastSync) }],
      },
    }, 'application/merge-patch+json');
    if (i === 0 && k % 10 === 0) {
      const pod = `volsync-src-${name}-${String(k).padStart(5, '0')}`;
      await must(api, 'POST', `/api/v1/namespaces/${ns}/pods`, {
        metadata: { name: pod, labels: { 'app.kubernetes.io/created-by': 'volsync', 'job-name': `volsync-src-${name}` } },
        spec: { restartPolicy: 'Never', containers: [{ name: 'restic', image: 'quay.io/backube/volsync:0.13.0' }] },
      });
      await must(api, 'PATCH', `/api/v1/namespaces/${ns}/pods/${pod}/status`, { status: { phase: 'Succeeded', startTime: iso(lastSync - 47_000) } }, 'application/merge-patch+json');
    }
  });
  info(`seeded namespaces ${from}..${to - 1} (${(to - from) * PER_NS} sources) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/** apiserver_request_total, summed for what a /backup status reads (the bot's own leader lease renewals excluded). */
async function requestCount(api: Api): Promise<number> {
  const res = await api.call('GET', '/metrics');
  const read = new Set(['replicationsources', 'pods', 'jobs', 'persistentvolumeclaims', 'volumes', 'perconaservermysqlbackups', 'perconaservermysqlrestores', 'events', 'namespaces', 'leases']);
  let total = 0;
  for (const l of res.body.split('\n')) {
    if (!l.startsWith('apiserver_request_total{')) continue;
    const labels = Object.fromEntries([...l.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (!read.has(labels['resource'] ?? '') || !['LIST', 'GET', 'WATCH'].includes(labels['verb'] ?? '')) continue;
    if (labels['resource'] === 'leases' && labels['verb'] !== 'LIST') continue;
    if (labels['resource'] === 'namespaces' && labels['verb'] === 'GET') continue;
    total += Number(l.slice(l.lastIndexOf(' ') + 1));
  }
  return total;
}

async function timeKubectl(kubeconfig: string): Promise<{ ms: number; bytes: number }> {
  const { kubectl } = await ensureKubeBinaries();
  const started = performance.now();
  const bytes = await new Promise<number>((resolve, reject) => {
    const child = spawn(kubectl, ['--kubeconfig', kubeconfig, 'get', 'replicationsources', '-A', '-o', 'json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let n = 0;
    child.stdout.on('data', (b: Buffer) => { n += b.length; });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(n) : reject(new Error(`kubectl exited ${code}`))));
  });
  return { ms: performance.now() - started, bytes };
}

async function timeStatus(slack: SlackStandIn): Promise<{ ms: number; text: string }> {
  const started = Date.now();
  const sent = await slack.sendSlashCommandHttp({ command: '/backup', text: 'status' });
  const [res] = await slack.waitFor(() => { const r = slack.responses(sent.responseUrlId).filter((x) => x.via === 'response_url'); return r.length ? r : undefined; }, 120_000, 'the status reply');
  if (res!.errors.length) throw new Error(`invalid Block Kit: ${res!.errors.join('; ')}`);
  return { ms: res!.at - started, text: String(res!.body.text ?? '') };
}

interface Phase { namespaces: number; cold: number; warm: number; kubectl: number; reqCold: number; reqWarm: number; reqDirect: number; summary: string }

async function phase(kubeconfig: string, api: Api, namespaces: number): Promise<Phase> {
  // Warm the kubectl discovery cache and the API server once, then take the median.
  await timeKubectl(kubeconfig);
  const k: number[] = [];
  for (let i = 0; i < RUNS; i++) k.push((await timeKubectl(kubeconfig)).ms);

  const slack = await startSlackStandIn({ botToken: BOT_TOKEN, signingSecret: SIGNING });
  const dir = mkdtempSync(join(tmpdir(), 'bb-status-bench-'));
  writeFileSync(join(dir, 'backup-bot.yaml'), 'slack:\n  channels: []\n');
  let bot: BotProcess | undefined;
  try {
    // Counted from before the start: the cold command's cost includes the watch cache's first lists.
    const before = await requestCount(api);
    bot = await startBotProcess({
      SLACK_MODE: 'http', SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_SIGNING_SECRET: SIGNING, SLACK_API_URL: slack.apiUrl,
      KUBECONFIG: kubeconfig, BACKUP_BOT_CONFIG: join(dir, 'backup-bot.yaml'), LOG_LEVEL: 'info', POD_NAMESPACE: 'default',
    }, { timeoutMs: 60_000 });
    slack.setRequestUrl(`${bot.url}/slack/events`);
    // Cold: the first command, sent as soon as the bot listens (its watches start at the same time).
    const cold = await timeStatus(slack);
    const afterCold = await requestCount(api);
    // Warm: the watch cache is synced by now; a few commands, median.
    await new Promise((r) => setTimeout(r, 2000));
    const warm: number[] = [];
    const reqs: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const b = await requestCount(api);
      warm.push((await timeStatus(slack)).ms);
      reqs.push((await requestCount(api)) - b);
    }
    await bot.stop();
    bot = undefined;
    // Direct lists (what the terminal mode and a cache that is not synced do): requests per command.
    const d0 = await requestCount(api);
    await directStatus(kubeconfig);
    const reqDirect = (await requestCount(api)) - d0;
    return { namespaces, cold: cold.ms, warm: median(warm), kubectl: median(k), reqCold: afterCold - before, reqWarm: Math.max(...reqs), reqDirect, summary: cold.text.split('. Problems')[0] ?? '' };
  } finally {
    await bot?.stop();
    await slack.close();
  }
}

async function directStatus(kubeconfig: string): Promise<void> {
  const { KubeConfig } = await import('@kubernetes/client-node');
  const { kubeFromConfig } = await import('../src/kube/client.ts');
  const { backupStatus } = await import('../src/backup/status.ts');
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  await backupStatus({ kube: kubeFromConfig(kc), now: () => new Date() }, {});
}

async function main(): Promise<void> {
  await withApiServer(CONCURRENCY, info, async (kube, api) => {
    await must(api, 'POST', '/api/v1/namespaces', { metadata: { name: 'longhorn-system' } });
    await seed(api, 0, SMALL);
    const small = await phase(kube.kubeconfigPath, api, SMALL);
    await seed(api, SMALL, NAMESPACES);
    const full = await phase(kube.kubeconfigPath, api, NAMESPACES);
    const { bytes } = await timeKubectl(kube.kubeconfigPath);

    console.log(`# /backup status, ${NAMESPACES} namespaces × ${PER_NS} sources (${NAMESPACES * PER_NS}), real kube-apiserver, bot over HTTP to the Slack stand-in`);
    console.log(`# ${full.summary}`);
    console.log(`# kubectl get replicationsources -A -o json: ${(bytes / 1e6).toFixed(1)} MB; medians of ${RUNS} runs`);
    line('figure', 'value', 'ratio', 'reference / target');
    line('kubectl get replicationsources -A -o json', `${full.kubectl.toFixed(0)} ms`, '1.000', 'reference');
    line('/backup status cold (first after start)', `${full.cold.toFixed(0)} ms`, `${(full.cold / full.kubectl).toFixed(3)}×`, 'vs kubectl; target ≤ 1.0×');
    line('/backup status warm (cache synced)', `${full.warm.toFixed(0)} ms`, `${(full.warm / full.kubectl).toFixed(3)}×`, 'vs kubectl; target ≤ 0.2×');
    line(`API requests, cold, ${SMALL} namespaces`, String(small.reqCold), '', 'list + watch per kind, started with the bot');
    line(`API requests, cold, ${NAMESPACES} namespaces`, String(full.reqCold), `${(full.reqCold / Math.max(1, small.reqCold)).toFixed(3)}×`, `vs ${SMALL} namespaces; target 1.0× (constant)`);
    line(`API requests per warm command, ${SMALL} ns`, String(small.reqWarm), '', 'from the watch cache');
    line(`API requests per warm command, ${NAMESPACES} ns`, String(full.reqWarm), small.reqWarm ? `${(full.reqWarm / small.reqWarm).toFixed(3)}×` : `${full.reqWarm - small.reqWarm} more`, `vs ${SMALL} namespaces; target constant`);
    line(`API requests per direct command, ${SMALL} ns`, String(small.reqDirect), '', 'no cache (terminal mode)');
    line(`API requests per direct command, ${NAMESPACES} ns`, String(full.reqDirect), `${(full.reqDirect / Math.max(1, small.reqDirect)).toFixed(3)}×`, `vs ${SMALL} namespaces; target 1.0× (constant)`);
    line(`kubectl at ${SMALL} namespaces`, `${small.kubectl.toFixed(0)} ms`, '', `cold ${(small.cold / small.kubectl).toFixed(3)}×, warm ${(small.warm / small.kubectl).toFixed(3)}×`);
  });
}

await main();
process.exit(0);
