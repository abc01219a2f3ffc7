/**
 * Where restore drills restore to: a private directory per drill under the OS temp dir, named with
 * a prefix and the bot's PID, so the ones a crash left behind are found and removed when the bot
 * starts again, and another bot process sharing the temp dir (a second replica on one node, the
 * test suite) keeps its own. Kept apart from the drill itself so start-up loads nothing of restic.
 */
import { readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PREFIX = 'backup-bot-drill-';

/** The prefix of this process's drill directories (mkdtemp adds the random part). */
export function drillDirPrefix(pid = process.pid): string {
  return `${PREFIX}${pid}-`;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * Removes the drill directories whose process is gone, and those with this process's own PID (a
 * restarted container's bot is often PID 1 again, and at start-up it has no drill running yet).
 * Returns how many.
 */
export async function sweepDrillDirs(root = tmpdir(), pid = process.pid): Promise<number> {
  let removed = 0;
  for (const entry of await readdir(root).catch(() => [] as string[])) {
    const m = new RegExp(`^${PREFIX}(\\d+)-`).exec(entry);
    if (!m) continue;
    const owner = Number(m[1]);
    if (owner !== pid && alive(owner)) continue;
    await rm(join(root, entry), { recursive: true, force: true });
    removed++;
  }
  return removed;
}
