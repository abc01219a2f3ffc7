// One resolve rule for every command: /restic, /backup status <ns> <name> and /backup run accept a
// source's name, its source PVC or its app label; several matches list the choices, none the near misses.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { parseEnv, parseFileConfig } from '../../src/config.ts';
import { AccessControl } from '../../src/access.ts';
import { AuditLog } from '../../src/audit.ts';
import { Confirmations, MemoryConfirmationStore } from '../../src/confirm/confirmations.ts';
import { SingleReplica } from '../../src/leader.ts';
import type { Actor, Services } from '../../src/command/context.ts';
import type { Kube } from '../../src/kube/client.ts';
import { commandSet, dispatch } from '../../src/command/dispatch.ts';
import { backupCommands } from '../../commands/backup/index.ts';
import { resolveReply } from '../../src/backup/status.ts';
import { matchSource } from '../../src/volsync/source.ts';
import type { ReplicationSource } from '../../src/volsync/source.ts';

const OLIVE: Actor = { id: 'U0OLIVE01', name: 'olive', via: 'slack' };
const src = (name: string, pvc: string, labels: Record<string, string> = {}): ReplicationSource => ({
  metadata: { name, namespace: 'media', uid: `uid-${name}`, resourceVersion: '1', labels },
  spec: { sourcePVC: pvc, trigger: { schedule: '0 * * * *' }, restic: { repository: `${name}-restic` } },
  status: {},
});
const SOURCES = [
  src('plex-backup', 'plex-config', { 'app.kubernetes.io/name': 'plex' }),
  src('sonarr-backup', 'sonarr-data', { app: 'sonarr' }),
  src('web-a', 'web-a', { app: 'web' }),
  src('web-b', 'web-b', { app: 'web' }),
];

/** A cluster holding SOURCES in `media`: reads by name, lists, no mover pods. */
const kube = {
  server: 'https://kube.test:6443',
  custom: {
    getNamespacedCustomObject: async ({ name }: { name: string }) => {
      const found = SOURCES.find((s) => s.metadata?.name === name);
      if (found) return structuredClone(found);
      throw Object.assign(new Error('HTTP-Code: 404'), { code: 404, body: `replicationsources.volsync.backube "${name}" not found` });
    },
    listNamespacedCustomObject: async () => ({ items: structuredClone(SOURCES) }),
  },
  core: { listNamespacedPod: async () => ({ items: [] }) },
} as unknown as Kube;

function services(): Services {
  const log = pino({ level: 'silent' });
  return {
    config: { ...parseFileConfig({ slack: { operators: { users: [OLIVE.id] } } }, 'test'), env: parseEnv({ SLACK_MODE: 'terminal' }), source: 'test' },
    log,
    audit: new AuditLog(log),
    access: new AccessControl({ operators: { users: [OLIVE.id], groups: [] }, channels: [], log }),
    confirmations: new Confirmations({ store: new MemoryConfirmationStore(), ttlMs: 10 * 60_000 }),
    leadership: new SingleReplica(),
    kube,
  };
}

const run = (line: string) => dispatch(commandSet([backupCommands()]), '/backup', line, { actor: OLIVE, channel: 'C0OPS', services: services(), now: () => new Date(), notify: async () => {} });

describe('every command resolves a source the same way', () => {
  const forms: Array<[string, string]> = [['plex-backup', 'name'], ['plex-config', 'source PVC'], ['plex', 'app.kubernetes.io/name label'], ['sonarr', 'app label']];
  for (const [asked, by] of forms) {
    it(`by ${by} (\`${asked}\`): /restic's rule, /backup status and /backup run find the same source`, async () => {
      const restic = matchSource(SOURCES, asked);
      assert.equal(restic.kind, 'found');
      const expected = restic.kind === 'found' ? restic.source.metadata?.name : '';
      const status = resolveReply(SOURCES, 'media', asked, '/backup status');
      assert.ok('source' in status, `status resolves ${asked}`);
      assert.equal(status.source.metadata?.name, expected);
      const r = await run(`run media ${asked}`);
      assert.ok(r.confirmation, `run resolves ${asked}: ${r.text}`);
      assert.match(r.text, new RegExp(`^Run a backup of media/${expected} now\\?`));
    });
  }

  it('several matches: status and run list the choices instead of picking one', async () => {
    const status = resolveReply(SOURCES, 'media', 'web', '/backup status');
    assert.ok('reply' in status);
    assert.match(status.reply.text, /`web` matches 2 ReplicationSources in `media` by label: `web-a` \(PVC `web-a`, app `web`\), `web-b`.*Name one: `\/backup status media web-a`/);
    const r = await run('run media web');
    assert.equal(r.confirmation, undefined);
    assert.match(r.text, /`web` matches 2 ReplicationSources in `media` by label.*Name one: `\/backup run media web-a`/);
  });

  it('no match: the near misses, by any of the forms', async () => {
    const status = resolveReply(SOURCES, 'media', 'plx', '/backup status');
    assert.ok('reply' in status);
    assert.match(status.reply.text, /No ReplicationSource `plx` in `media`\. Did you mean `\/backup status media plex-backup`/);
    assert.match((await run('run media sonar')).text, /No ReplicationSource `sonar` in `media`\. Did you mean `\/backup run media sonarr-backup`/);
  });
});
