/** How long one restic run may take, from the configuration (restic.timeoutSeconds). */
import type { CommandContext } from '../command/context.ts';
import type { RunResticOptions } from '../restic/index.ts';

export function resticOptions(ctx: Pick<CommandContext, 'services'>): RunResticOptions {
  return { timeoutMs: ctx.services.config.restic.timeoutSeconds * 1000 };
}
