/**
 * Shared by the /restic command tests: ReplicationSources, repository Secrets and pods on a real API
 * server (statuses written through the status subresource, as the kubelet and VolSync would), a
 * file's local repositories and their removal (ResticScratch), orphaned locks, the /restic commands
 * with short waits and an after-pause hook, a watch that records every spec.paused a source goes
 * through, and an in-process command context with the real access control, audit log and
 * ConfigMap-backed confirmations.
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
import { resticCommands } from '../../commands/restic/index.ts';
import type { ResticCommandDeps } from '../../commands/restic/index.ts';
import type { RemoveAllOptions } from '../../commands/restic/remove-all.ts';
import { commandSet } from '../../src/command/dispatch.ts';
import { createPodWithStatus, createReplicationSource, createSecret, deleteNamespace, moverLabels, resticSourceSpec } from '../harness/kube-objects.ts';
import { deadLock, makeLocalRepository } from '../harness/restic.ts';
import type { ResticTarget } from '../../src/restic/index.ts';

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

/** A local restic repository (harness/restic.ts), and its removal. */
export type LocalRepository = Awaited<ReturnType<typeof makeLocalRepository>>;

/**
 * What one /restic test file makes, and its removal at the end: local repositories, the sources
 * backed by them, anything else the file registers, and last its namespace. A removal that fails
 * does not stop the others.
 */
export class ResticScratch {
  readonly #kube: Kube;
  readonly #namespace: string;
  readonly #cleanups: Array<() => Promise<void>> = [];

  constructor(kube: Kube, namespace: string) {
    this.#kube = kube;
    this.#namespace = namespace;
  }

  /** A new local repository, removed by cleanup(). */
  async repository(): Promise<LocalRepository> {
    const repo = await makeLocalRepository();
    this.#cleanups.push(repo.cleanup);
    return repo;
  }

  /** A source `name` backed up to a new local repository, its Secret `<name>-restic-secret` holding the repository and its password. */
  async sourceWithRepository(name: string, o: { pvc?: string; labels?: Record<string, string> } = {}): Promise<LocalRepository> {
    const repo = await this.repository();
    await createSecret(this.#kube, this.#namespace, `${name}-restic-secret`, { RESTIC_REPOSITORY: repo.target.repository, RESTIC_PASSWORD: repo.target.env['RESTIC_PASSWORD']! });
    await createSource(this.#kube, this.#namespace, name, o);
    return repo;
  }

  /** Something else to undo at the end, before the namespace goes. */
  onCleanup(fn: () => Promise<void>): void {
    this.#cleanups.push(fn);
  }

  async cleanup(): Promise<void> {
    for (const c of this.#cleanups) await c().catch(() => undefined);
    await deleteNamespace(this.#kube, this.#namespace);
  }
}

/**
 * The /restic commands with short mover waits (1.5 s, polled every 250 ms), and `hooks.afterPause`,
 * which a test may set to act the moment --remove-all has paused the source.
 */
export function resticTestCommands(deps: Omit<ResticCommandDeps, 'removeAll'> = {}): { commands: CommandSet; hooks: { afterPause?: RemoveAllOptions['afterPause'] } } {
  const hooks: { afterPause?: RemoveAllOptions['afterPause'] } = {};
  const commands = commandSet([resticCommands({
    ...deps,
    removeAll: { moverStopWaitMs: 1500, moverPollMs: 250, afterPause: (s) => hooks.afterPause?.(s) ?? Promise.resolve() },
  })]);
  return { commands, hooks };
}

/** A pod with the given phase, started two minutes ago (no kubelet runs: the status is written directly). */
export async function createPod(kube: Kube, namespace: string, name: string, phase: string, labels: Record<string, string> = {}): Promise<void> {
  await createPodWithStatus(kube, namespace, name, labels, { phase, startTime: new Date(Date.now() - 120_000).toISOString() });
}

/**
 * An orphaned lock: left by the mover pod `mover` of `source`, whose restic was killed (OOMKilled,
 * evicted). The pod is there and Failed, which proves the lock dead however young it is. Its id.
 */
export async function orphanedLock(kube: Kube, namespace: string, source: string, target: ResticTarget, mover: string): Promise<string> {
  await createPod(kube, namespace, mover, 'Failed', moverLabels(source));
  return deadLock(target, { hostname: mover });
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
