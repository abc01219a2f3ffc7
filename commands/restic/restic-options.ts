/** How long one restic run may take, from the configuration (restic.timeoutSeconds). */
import type { CommandContext } from '../../src/command/context.ts';
import type { RunResticOptions } from '../../src/restic/index.ts';

export function resticOptions(ctx: Pick<CommandContext, 'services'>): RunResticOptions {
  return { timeoutMs: ctx.services.config.restic.timeoutSeconds * 1000 };
}
