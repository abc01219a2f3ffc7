/**
 * `/backup status [namespace] [name]`: the engine is src/backup/status.ts (gather, judge, render);
 * a source is named by the one resolve rule (name, source PVC, app label).
 */
import type { CommandContext } from '../../src/command/context.ts';
import type { ParsedCommand } from '../../src/command/registry.ts';
import type { BackupCache } from '../../src/backup/backup-cache.ts';
import type { Reply } from '../../src/reply.ts';
import { backupStatus } from '../../src/backup/status.ts';

export const statusCommand = (deps: { cache?: BackupCache | undefined }) => (cmd: ParsedCommand, ctx: CommandContext): Promise<Reply> =>
  backupStatus({ kube: ctx.services.kube, cache: deps.cache, now: ctx.now }, { namespace: cmd.args.namespace, name: cmd.args.name });
