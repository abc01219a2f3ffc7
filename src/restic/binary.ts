// Which restic the bot runs: RESTIC_BIN when set (the image sets it), else `restic` on PATH (by the
// absolute path found: restic runs with a minimal PATH that lacks ~/go/bin, Homebrew or Nix), else
// the one `npm test`'s setup builds into the developer cache (so `npm start` against the demo
// cluster works on a machine where restic is not installed system-wide).
// Exit codes 10/11/12 and the unlock behaviour this module relies on need restic ≥ 0.17.
import { accessSync, constants } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';

export const PINNED_RESTIC_VERSION = 'v0.18.1';

/** Whether `path` is a file this process may execute. */
export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function resticBinary(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env['RESTIC_BIN'];
  if (configured !== undefined && configured !== '') return configured;
  for (const dir of (env['PATH'] ?? '').split(delimiter)) {
    const found = dir ? resolve(dir, 'restic') : '';
    if (found && isExecutable(found)) return found;
  }
  const cache = env['BACKUP_BOT_CACHE'] || join(env['HOME'] || homedir(), '.cache', 'backup-bot');
  const built = join(cache, 'restic', PINNED_RESTIC_VERSION, 'bin', 'restic');
  return isExecutable(built) ? built : 'restic';
}
