/**
 * Memory of the real bot against a floor measured in the same run: a process that only imports
 * the bot's dependencies and idles. The bot (`node src/main.ts`, HTTP mode against the Slack
 * stand-in, KUBECONFIG to a private real API server) is measured idle on an empty cluster, then
 * with `--sources` ReplicationSources (+ their PVCs), then with `--pods` more pods (`--movers` of
 * them VolSync mover pods, the rest ordinary pods its label-selected pod watch never lists). Each
 * bot is read once its watch caches are synced (a `/backup status` answered) and `--settle` ms
 * later, after a full gc() (both processes run with --expose-gc), from its own /metrics
 * (process_resident_memory_bytes, nodejs_heap_size_used_bytes); the floor prints
 * process.memoryUsage() after the same settle time and gc().
 *
 *   npm run bench:memory -- [--sources 5000] [--pods 20000] [--movers 300] [--per-namespace 5] [--settle 10000]
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { NODE, startHttpBot } from '../test/harness/bot-process.ts';
import { startSlackStandIn } from '../test/harness/slack/slack-stand-in.ts';
import { must, pool, withApiServer } from './kube-api.ts';
import { benchFlags } from './args.ts';
import type { Api } from './kube-api.ts';

const args = benchFlags({ numbers: { sources: 5000, pods: 20000, movers: 300, 'per-namespace': 5, settle: 10000, concurrency: 24 } });
const SOURCES = args.sources;
const PODS = args.pods;
const MOVERS = Math.min(args.movers, PODS);
const PER_NS = args['per-namespace'];
const SETTLE = args.settle;
const CONCURRENCY = args.concurrency;
const NAMESPACES = Math.max(1, Math.ceil(SOURCES / PER_NS));
const BOT_TOKEN = 'xoxb-8000000003-8000000004-memorybenchbottoken';
const SIGNING = 'memory-bench-signing-secret';
const GC_PRELOAD = fileURLToPath(new URL('./memory-gc.ts', import.meta.url));
const FLOOR = fileURLToPath(new URL('./memory-floor.ts', import.meta.url));

const MB = (b: number) => `${(b / 1048576).toFixed(1)} MB`;
const line = (name: string, value: string, ratio: string, reference: string) =>
  console.log(`${name.padEnd(40)} ${value.padEnd(14)} ${ratio.padEnd(14)} ${reference}`);
const info = (s: string) => process.stderr.write(`[bench] ${s}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const ns = (n: number) => `mem-${String(n).padStart(4, '0')}`;

interface Memory { rss: number; heap: number }

async function floor(): Promise<Memory> {
  const { stdout } = await promisify(execFile)(NODE, ['--expose-gc', FLOOR, String(SETTLE)], { env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_NO_WARNINGS: '1' } });
  const m = JSON.parse(stdout.trim().split('\n').pop()!) as { rss: number; heapUsed: number };
  return { rss: m.rss, heap: m.heapUsed };
}

function metric(text: string, name: string): number {
  const l = text.split('\n').find((x) => x.startsWith(`${name} `) || x.startsWith(`${name}{`));
  if (!l) throw new Error(`no ${name} in the bot's /metrics`);
  return Number(l.slice(l.lastIndexOf(' ') + 1));
}

/** A fresh bot, its caches synced (a /backup status answered), read after the settle time and a gc(). */
async function botMemory(kubeconfig: string): Promise<{ memory: Memory; summary: string }> {
  const slack = await startSlackStandIn({ botToken: BOT_TOKEN, signingSecret: SIGNING });
  const dir = mkdtempSync(join(tmpdir(), 'bb-memory-bench-'));
  writeFileSync(join(dir, 'backup-bot.yaml'), 'slack:\n  channels: []\n');
  const bot = await startHttpBot(slack, {
    KUBECONFIG: kubeconfig, BACKUP_BOT_CONFIG: join(dir, 'backup-bot.yaml'), LOG_LEVEL: 'info', POD_NAMESPACE: 'default',
    NODE_OPTIONS: `--expose-gc --import=${GC_PRELOAD}`,
  }, { timeoutMs: 60_000 });
  try {
    const sent = await slack.sendSlashCommandHttp({ command: '/backup', text: 'status' });
    const [res] = await slack.waitFor(() => { const r = slack.responses(sent.responseUrlId).filter((x) => x.via === 'response_url'); return r.length ? r : undefined; }, 300_000, 'the status reply');
    await sleep(SETTLE);
    bot.child.kill('SIGUSR2');
    await sleep(500);
    const text = await (await fetch(`${bot.url}/metrics`)).text();
    return { memory: { rss: metric(text, 'process_resident_memory_bytes'), heap: metric(text, 'nodejs_heap_size_used_bytes') }, summary: String(res!.body.text ?? '').split('. Problems')[0] ?? '' };
  } finally {
    await bot.stop();
    await slack.close();
  }
}

const SUCCESS_LOG = 'using parent snapshot 2a7e4c1b\nFiles: 3 new, 12 changed, 1834 unmodified\nAdded to the repository: 12.4 MiB\nsnapshot 9c3f0e27 saved\nRestic completed in 47s\n=== Done ===';

/** SOURCES ReplicationSources over NAMESPACES namespaces, each with its PVC and a status. */
async function seedSources(api: Api): Promise<void> {
  const started = Date.now();
  const now = Date.now();
  await pool(Array.from({ length: NAMESPACES }, (_, i) => ns(i)), CONCURRENCY, (n) => must(api, 'POST', '/api/v1/namespaces', { metadata: { name: n } }));
  await pool(Array.from({ length: SOURCES }, (_, k) => k), CONCURRENCY, async (k) => {
    const namespace = ns(Math.floor(k / PER_NS));
    const name = `app-${k % PER_NS}`;
    await must(api, 'POST', `/api/v1/namespaces/${namespace}/persistentvolumeclaims`, {
      metadata: { name, labels: { backup: 'hourly' } },
      spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'longhorn', resources: { requests: { storage: '1Gi' } } },
    });
    await must(api, 'POST', `/apis/volsync.backube/v1alpha1/namespaces/${namespace}/replicationsources`, {
      apiVersion: 'volsync.backube/v1alpha1', kind: 'ReplicationSource', metadata: { name },
      spec: { sourcePVC: name, trigger: { schedule: '0 * * * *' }, restic: { repository: `${name}-volsync-secret`, copyMethod: 'Clone', pruneIntervalDays: 7, retain: { hourly: 24, daily: 7 } } },
    });
    const lastSync = now - 20 * 60_000;
    await must(api, 'PATCH', `/apis/volsync.backube/v1alpha1/namespaces/${namespace}/replicationsources/${name}/status`, {
      status: {
        lastSyncStartTime: iso(lastSync - 47_000), lastSyncTime: iso(lastSync), lastSyncDuration: '47.218s', nextSyncTime: iso(now + 40 * 60_000),
        latestMoverStatus: { result: 'Successful', logs: SUCCESS_LOG },
        conditions: [{ type: 'Synchronizing', status: 'False', reason: 'WaitingForSchedule', message: 'Waiting for next scheduled synchronization', lastTransitionTime: iso(lastSync) }],
      },
    }, 'application/merge-patch+json');
  });
  info(`seeded ${SOURCES} sources + PVCs in ${NAMESPACES} namespaces in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/** PODS pods spread over the namespaces: MOVERS VolSync mover pods (job-name label), the rest ordinary app pods. */
async function seedPods(api: Api): Promise<void> {
  const started = Date.now();
  const every = MOVERS > 0 ? Math.floor(PODS / MOVERS) : Infinity;
  await pool(Array.from({ length: PODS }, (_, k) => k), CONCURRENCY, async (k) => {
    const namespace = ns(k % NAMESPACES);
    const mover = k % every === 0 && k / every < MOVERS;
    const name = mover ? `volsync-src-app-${String(k).padStart(5, '0')}` : `web-${String(k).padStart(5, '0')}`;
    const labels = mover
      ? { 'app.kubernetes.io/created-by': 'volsync', 'job-name': `volsync-src-app-${k}` }
      : { app: 'web', 'app.kubernetes.io/name': 'web', 'pod-template-hash': '7d9f8c6b5' };
    await must(api, 'POST', `/api/v1/namespaces/${namespace}/pods`, {
      metadata: { name, labels, annotations: { 'kubectl.kubernetes.io/restartedAt': iso(Date.now()) } },
      spec: {
        restartPolicy: mover ? 'Never' : 'Always',
        containers: [{
          name: mover ? 'restic' : 'web', image: mover ? 'quay.io/backube/volsync:0.13.0' : 'nginx:1.27',
          env: [{ name: 'MODE', value: 'production' }], resources: { requests: { cpu: '10m', memory: '32Mi' } },
          ports: mover ? undefined : [{ containerPort: 8080, name: 'http' }],
        }],
      },
    });
  });
  info(`seeded ${PODS} pods (${MOVERS} movers) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

async function main(): Promise<void> {
  await withApiServer(CONCURRENCY, info, async (kube, api) => {
    info('measuring the floor');
    const base = await floor();
    info('measuring the bot idle');
    const idle = (await botMemory(kube.kubeconfigPath)).memory;
    await seedSources(api);
    const withSources = await botMemory(kube.kubeconfigPath);
    await seedPods(api);
    const withPods = await botMemory(kube.kubeconfigPath);
    const nonMovers = PODS - MOVERS;
    const per = (a: number, b: number, n: number) => (n > 0 ? `${((a - b) / n).toFixed(0)} B` : '-');

    console.log(`# memory, real kube-apiserver, bot over HTTP to the Slack stand-in; read ${SETTLE} ms after the first /backup status, after gc()`);
    console.log(`# ${withPods.summary}`);
    line('figure', 'RSS', 'heap used', 'ratio / reference');
    line('floor (dependencies imported, idle)', MB(base.rss), MB(base.heap), 'reference');
    line('bot idle, empty cluster', MB(idle.rss), MB(idle.heap), `RSS ${(idle.rss / base.rss).toFixed(3)}×, heap ${(idle.heap / base.heap).toFixed(3)}× the floor; target ≤ 1.1×`);
    line(`bot, ${SOURCES} sources + PVCs`, MB(withSources.memory.rss), MB(withSources.memory.heap), `RSS ${(withSources.memory.rss / base.rss).toFixed(3)}× the floor`);
    line(`bot, + ${PODS} pods (${MOVERS} movers)`, MB(withPods.memory.rss), MB(withPods.memory.heap), `RSS ${(withPods.memory.rss / base.rss).toFixed(3)}× the floor`);
    line('cache cost per source (+ its PVC)', per(withSources.memory.rss, idle.rss, SOURCES), per(withSources.memory.heap, idle.heap, SOURCES), '(with sources − idle) / sources');
    line('cache cost per pod (all pods)', per(withPods.memory.rss, withSources.memory.rss, PODS), per(withPods.memory.heap, withSources.memory.heap, PODS), `(with pods − with sources) / ${PODS} pods`);
    line('… per mover pod, if non-movers cost 0', per(withPods.memory.rss, withSources.memory.rss, MOVERS), per(withPods.memory.heap, withSources.memory.heap, MOVERS), `over ${MOVERS} movers; ${nonMovers} non-movers are not listed (label selector)`);
  });
}

await main();
process.exit(0);
