/**
 * Shared by the /restic command tests: ReplicationSources, repository Secrets and pods on a real API
 * server (statuses written through the status subresource, as the kubelet and VolSync would), a
 * watch that records every spec.paused a source goes through, and an in-process command context
 * with the real access control, audit log and ConfigMap-backed confirmations.
 */
import { Watch } from '@kubernetes/client-node';
import pino from 'pino';
import type { AuditRecord } from '../../src/audit.ts';
import { buildServices } from '../../src/app.ts';
import type { Actor, ActionResult, CommandContext, Services } from '../../src/command/context.ts';
import { dispatch, dispatchAction } from '../../src/command/dispatch.ts';
import type { CommandSet } from '../../src/command/dispatch.ts';
import { parseEnv, parseFileConfig } from '../../src/config.ts';
import type { Kube } from '../../src/kube/client.ts';
import { VOLSYNC } from '../../src/kube/client.ts';
import type { Reply } from '../../src/reply.ts';
import { renderText } from '../../src/terminal/render-text.ts';
import { createPodWithStatus, createReplicationSource, resticSourceSpec } from '../harness/kube-objects.ts';

// The shared vocabulary (test/harness/kube-objects.ts), and the /restic tests' short forms of it.
export { createNamespace, createSecret, getSource, kubeFor, MERGE, moverLabels, sleep, sourceStatus, uniq } from '../harness/kube-objects.ts';

/** A restic ReplicationSource: PVC `pvc` (default: the name), Secret `<name>-restic-secret`, hourly. */
export async function createSource(
  kube: Kube,
  namespace: string,
  name: string,
  o: { pvc?: string; secret?: string; labels?: Record<string, string>; paused?: boolean; schedule?: string; customCA?: Record<string, string> } = {},
): Promise<void> {
  await createReplicationSource(kube, namespace, name, resticSourceSpec(name, o), o.labels ? { labels: o.labels } : {});
}

/** A pod with the given phase, started two minutes ago (no kubelet runs: the status is written directly). */
export async function createPod(kube: Kube, namespace: string, name: string, phase: string, labels: Record<string, string> = {}): Promise<void> {
  await createPodWithStatus(kube, namespace, name, labels, { phase, startTime: new Date(Date.now() - 120_000).toISOString() });
}

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
