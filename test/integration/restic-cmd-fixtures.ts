/**
 * Shared by the /restic command tests: ReplicationSources, repository Secrets and pods on a real API
 * server (statuses written through the status subresource, as the kubelet and VolSync would), a
 * watch that records every spec.paused a source goes through, and an in-process command context
 * with the real access control, audit log and ConfigMap-backed confirmations.
 */
import { randomBytes } from 'node:crypto';
import { KubeConfig, PatchStrategy, Watch, setHeaderOptions } from '@kubernetes/client-node';
import pino from 'pino';
import type { AuditRecord } from '../../src/audit.ts';
import { buildServices } from '../../src/app.ts';
import type { Actor, ActionResult, CommandContext, Services } from '../../src/command/context.ts';
import { dispatch, dispatchAction } from '../../src/command/dispatch.ts';
import type { CommandSet } from '../../src/command/dispatch.ts';
import { parseEnv, parseFileConfig } from '../../src/config.ts';
import type { Kube } from '../../src/kube/client.ts';
import { VOLSYNC, kubeFromConfig } from '../../src/kube/client.ts';
import type { Reply } from '../../src/reply.ts';
import { renderText } from '../../src/terminal/render-text.ts';

export const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
export const uniq = (prefix: string): string => `${prefix}-${randomBytes(3).toString('hex')}`;
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function kubeFor(kubeconfigPath: string): Kube {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  return kubeFromConfig(kc);
}

export async function createNamespace(kube: Kube, name: string): Promise<void> {
  await kube.core.createNamespace({ body: { metadata: { name } } });
}

export async function createSecret(kube: Kube, namespace: string, name: string, data: Record<string, string>): Promise<void> {
  await kube.core.createNamespacedSecret({ namespace, body: { metadata: { name }, type: 'Opaque', stringData: data } });
}

export async function createSource(
  kube: Kube,
  namespace: string,
  name: string,
  o: { pvc?: string; secret?: string; labels?: Record<string, string>; paused?: boolean; schedule?: string; customCA?: Record<string, string> } = {},
): Promise<void> {
  await kube.custom.createNamespacedCustomObject({
    group: VOLSYNC.group, version: VOLSYNC.version, plural: VOLSYNC.sources, namespace,
    body: {
      apiVersion: `${VOLSYNC.group}/${VOLSYNC.version}`,
      kind: 'ReplicationSource',
      metadata: { name, labels: o.labels },
      spec: {
        sourcePVC: o.pvc ?? name,
        ...(o.paused !== undefined ? { paused: o.paused } : {}),
        trigger: { schedule: o.schedule ?? '0 * * * *' },
        restic: { repository: o.secret ?? `${name}-restic-secret`, copyMethod: 'Clone', ...(o.customCA ? { customCA: o.customCA } : {}) },
      },
    },
  });
}

export async function getSource(kube: Kube, namespace: string, name: string): Promise<{ metadata: { uid: string; resourceVersion: string }; spec: Record<string, any>; status?: Record<string, any> }> {
  return (await kube.custom.getNamespacedCustomObject({ group: VOLSYNC.group, version: VOLSYNC.version, plural: VOLSYNC.sources, namespace, name })) as never;
}

export async function sourceStatus(kube: Kube, namespace: string, name: string, status: Record<string, unknown>): Promise<void> {
  await kube.custom.patchNamespacedCustomObjectStatus({ group: VOLSYNC.group, version: VOLSYNC.version, plural: VOLSYNC.sources, namespace, name, body: { status } }, MERGE);
}

/** A pod with the given phase (no kubelet runs: the status is written directly). */
export async function createPod(kube: Kube, namespace: string, name: string, phase: string, labels: Record<string, string> = {}): Promise<void> {
  await kube.core.createNamespacedPod({
    namespace,
    body: { metadata: { name, labels }, spec: { restartPolicy: 'Never', containers: [{ name: 'restic', image: 'quay.io/backube/volsync:0.13.0' }] } },
  });
  await kube.core.patchNamespacedPodStatus({ namespace, name, body: { status: { phase, startTime: new Date(Date.now() - 120_000).toISOString() } } }, MERGE);
}

export const moverLabels = (source: string): Record<string, string> => ({ 'app.kubernetes.io/created-by': 'volsync', 'job-name': `volsync-src-${source}` });

/** Records every spec.paused value one source goes through, from a watch (no poll can miss a short pause). */
export async function watchPaused(kube: Kube, namespace: string, name: string): Promise<{ seen: Array<boolean | undefined>; stop(): void }> {
  const seen: Array<boolean | undefined> = [];
  const watch = new Watch(kube.kc);
  let last: boolean | undefined | null = null;
  const req = await watch.watch(
    `/apis/${VOLSYNC.group}/${VOLSYNC.version}/namespaces/${namespace}/${VOLSYNC.sources}`,
    { fieldSelector: `metadata.name=${name}` },
    (_type: string, obj: { spec?: { paused?: boolean } }) => {
      const paused = obj.spec?.paused;
      if (paused !== last) seen.push(paused);
      last = paused;
    },
    () => undefined,
  );
  return { seen, stop: () => req.abort() };
}

export interface TestBot {
  services: Services;
  commands: CommandSet;
  audits: AuditRecord[];
  notified: Reply[];
  ctx(actor: Actor): CommandContext;
  run(line: string, actor: Actor): Promise<Reply>;
  click(actionId: string, value: string, actor: Actor): Promise<ActionResult>;
  text(r: Reply | ActionResult): string;
}

export function slackUser(id: string, name: string): Actor {
  return { id, name, via: 'slack' };
}

/**
 * An in-process bot against a real API server: the services startBot builds (buildServices, with
 * confirmations in the cluster as in the Slack modes) and the given command set; commands and
 * clicks go through the same dispatch the transports use.
 */
export function testBot(o: { kube: Kube; botNamespace: string; operators: string[]; commands: CommandSet; now?: () => Date; ttlMinutes?: number }): TestBot {
  const log = pino({ level: process.env['TEST_LOG'] ?? 'silent' });
  const config = { ...parseFileConfig({ slack: { operators: { users: o.operators } }, restic: { confirmTimeoutMinutes: o.ttlMinutes ?? 10, timeoutSeconds: 60 } }, 'test'), env: parseEnv({ SLACK_MODE: 'terminal' }), source: 'test' };
  const { services } = buildServices(config, { log, kube: o.kube, namespace: o.botNamespace, confirmationsInCluster: true, ...(o.now ? { now: o.now } : {}) });
  const audits: AuditRecord[] = [];
  services.audit.onRecord((r) => audits.push(r));
  const notified: Reply[] = [];
  const ctx = (actor: Actor): CommandContext => ({ actor, channel: 'C0TEST', services, now: () => new Date(), notify: async (r) => { notified.push(r); } });
  const text = (r: Reply | ActionResult): string => {
    if ('blocks' in r) return renderText(r);
    return [r.replace, ...(r.thread ?? []), r.ephemeral].filter((x): x is Reply => Boolean(x)).map(renderText).join('\n---\n');
  };
  return {
    services,
    commands: o.commands,
    audits,
    notified,
    ctx,
    async run(line, actor) {
      const [command = '', ...rest] = line.trim().split(/\s+/);
      return dispatch(o.commands, command, rest.join(' '), ctx(actor));
    },
    click(actionId, value, actor) {
      return dispatchAction(o.commands, { actionId, value, actor, channel: 'C0TEST' }, ctx(actor));
    },
    text,
  };
}
