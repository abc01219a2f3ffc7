/** `/backup doctor [namespace]`: the runbooks' checks; the engine is src/backup/doctor.ts. */
import type { CommandContext } from '../../src/command/context.ts';
import type { ParsedCommand } from '../../src/command/registry.ts';
import type { Reply } from '../../src/reply.ts';
import { backupDoctor } from '../../src/backup/doctor.ts';

export const doctorCommand = (cmd: ParsedCommand, ctx: CommandContext): Promise<Reply> =>
  backupDoctor({ kube: ctx.services.kube, pvcLabel: ctx.services.config.backups.pvcLabel, now: ctx.now }, cmd.args.namespace);
