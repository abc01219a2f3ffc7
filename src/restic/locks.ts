// Reading a repository's lock files: `restic list locks`, then `restic cat lock <id>` for each.
import { z } from 'zod';
import { mapLimit } from './map-limit.ts';
import { runRestic, runResticChecked, type ResticTarget, type RunResticOptions } from './run.ts';
import { resticErrorFor } from './errors.ts';

export interface ResticLock {
  /** Full 64-hex lock ID (the lock file's name). */
  id: string;
  /** The 8-character prefix restic prints as "storage ID". */
  shortId: string;
  /** When the lock was made or last refreshed (a refresh writes a new lock with a new ID). */
  time: Date;
  exclusive: boolean;
  hostname: string;
  username: string;
  pid: number;
  uid: number;
  gid: number;
}

// restic 0.18 internal/restic/lock.go; uid/gid are `omitempty`, so root's are absent.
const LockFile = z.object({
  time: z.string(),
  exclusive: z.boolean(),
  hostname: z.string(),
  username: z.string().default(''),
  pid: z.number().int(),
  uid: z.number().int().optional(),
  gid: z.number().int().optional(),
});

const LOCK_ID = /^[0-9a-f]{64}$/;

/** Parses the JSON `restic cat lock <id>` prints. Throws with the reason on anything else. */
export function parseLock(id: string, json: string): ResticLock {
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch {
    throw new Error(`lock ${id.slice(0, 8)} is not JSON`);
  }
  const parsed = LockFile.safeParse(data);
  if (!parsed.success) throw new Error(`lock ${id.slice(0, 8)} is not a restic lock: ${z.prettifyError(parsed.error)}`);
  const time = new Date(parsed.data.time);
  if (Number.isNaN(time.getTime())) throw new Error(`lock ${id.slice(0, 8)} has an unreadable time "${parsed.data.time}"`);
  return {
    id,
    shortId: id.slice(0, 8),
    time,
    exclusive: parsed.data.exclusive,
    hostname: parsed.data.hostname,
    username: parsed.data.username,
    pid: parsed.data.pid,
    uid: parsed.data.uid ?? 0,
    gid: parsed.data.gid ?? 0,
  };
}

/** The IDs `restic list locks` printed, one per line. */
export function parseLockIds(stdout: string): string[] {
  return stdout
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => LOCK_ID.test(line));
}

export interface ListLocksOptions extends RunResticOptions {
  /** How many `restic cat lock` run at once. Each opens the repository (a key derivation), so few. */
  concurrency?: number;
}

export async function listLockIds(target: ResticTarget, opts: RunResticOptions = {}): Promise<string[]> {
  // --no-lock: looking at the locks must not add one.
  const result = await runResticChecked(target, ['list', 'locks', '--no-lock'], opts);
  return parseLockIds(result.stdout);
}

/** Every lock in the repository, oldest first. A lock removed while we read it is left out. */
export async function listLocks(target: ResticTarget, opts: ListLocksOptions = {}): Promise<ResticLock[]> {
  const { concurrency: _concurrency, ...runOpts } = opts;
  return readLocks(target, await listLockIds(target, runOpts), opts);
}

/**
 * `restic cat lock` for each ID, oldest lock first. A lock that is gone by the time we read it is
 * left out: a restic that finished between list and cat deleted the file. One that refreshed its
 * lock meanwhile wrote it under a new ID, which is read instead.
 * A lock that is still listed but cannot be read is an error.
 */
export async function readLocks(target: ResticTarget, ids: readonly string[], opts: ListLocksOptions = {}): Promise<ResticLock[]> {
  return readLocksOnce(target, ids, opts, true);
}

async function readLocksOnce(target: ResticTarget, ids: readonly string[], opts: ListLocksOptions, followRefresh: boolean): Promise<ResticLock[]> {
  const { concurrency = 4, ...runOpts } = opts;
  const read = await mapLimit(ids, concurrency, async (id) => {
    const result = await runRestic(target, ['cat', 'lock', id, '--no-lock'], runOpts);
    return { id, result };
  });

  const locks: ResticLock[] = [];
  const failed: typeof read = [];
  for (const entry of read) {
    if (entry.result.code === 0) locks.push(parseLock(entry.id, entry.result.stdout));
    else failed.push(entry);
  }
  if (failed.length > 0) {
    const stillListed = new Set(await listLockIds(target, runOpts));
    for (const entry of failed) {
      if (!stillListed.has(entry.id)) continue;
      throw (
        resticErrorFor(entry.result, {
          command: `restic cat lock ${entry.id.slice(0, 8)}`,
          ...(target.credentialsFrom !== undefined ? { credentialsFrom: target.credentialsFrom } : {}),
        }) ?? new Error(`could not read lock ${entry.id.slice(0, 8)}`)
      );
    }
    // A running restic refreshes its lock by writing it under a new ID, then deleting the old one:
    // the old ID vanished, the new one is in this second list. Read those once, or a live lock
    // being refreshed would be missing from the answer.
    const appeared = [...stillListed].filter((id) => !ids.includes(id));
    if (followRefresh && appeared.length > 0) locks.push(...(await readLocksOnce(target, appeared, opts, false)));
  }
  return locks.sort((a, b) => a.time.getTime() - b.time.getTime() || a.id.localeCompare(b.id));
}

// The verdict on a lock lives in verdict.ts; re-exported so one import serves `/restic locks`.
export { blocksFor, verdictFor, type HostFacts, type LockVerdict, type Verdict } from './verdict.ts';
