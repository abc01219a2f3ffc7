// Who holds the lock that made restic exit with code 11. restic 0.18 prints:
//
//   unable to create lock in backend: repository is already locked [exclusively ]by PID 32 on
//   <a mover pod's name> by root (UID 0, GID 0)
//   lock was created at 2025-12-13 10:24:46 (189h37m14.500688624s ago)
//   storage ID 1a2b3c4d
//   the `unlock` command can be used to remove stale locks
import { parseGoDuration } from './go-duration.ts';
import { duration } from '../text.ts';

/** Ages in restic's messages print like every other duration (src/text.ts). */
export { duration as formatAge };

export interface LockHolder {
  exclusive: boolean;
  pid: number;
  hostname: string;
  username: string;
  uid: number;
  gid: number;
  /** As restic printed it: local time of the restic that failed, no zone. */
  createdAt: string;
  /** How old the lock was when restic failed, if restic said. */
  ageMs?: number;
  /** Short lock ID (the lock file name prefix), if restic said. */
  storageId?: string;
}

const HOLDER =
  /repository is already locked (exclusively )?by PID (\d+) on (\S+) by (.*?) \(UID (\d+), GID (\d+)\)\s*\n\s*lock was created at ([0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}) \(([^)]*?) ago\)(?:\s*\n\s*storage ID ([0-9a-f]+))?/;

export function parseLockHolder(stderr: string): LockHolder | undefined {
  const m = HOLDER.exec(stderr);
  if (!m) return undefined;
  const holder: LockHolder = {
    exclusive: m[1] !== undefined,
    pid: Number(m[2]),
    hostname: m[3] ?? '',
    username: m[4] ?? '',
    uid: Number(m[5]),
    gid: Number(m[6]),
    createdAt: m[7] ?? '',
  };
  const ageMs = parseGoDuration(m[8] ?? '');
  if (ageMs !== undefined) holder.ageMs = ageMs;
  if (m[9] !== undefined) holder.storageId = m[9];
  return holder;
}

/** "an exclusive lock held by PID 32 on <host> by root, created 2025-12-13 10:24:46 (7d 21h ago)". */
export function describeHolder(holder: LockHolder): string {
  const kind = holder.exclusive ? 'an exclusive lock' : 'a shared lock';
  const age = holder.ageMs === undefined ? '' : ` (${duration(holder.ageMs)} ago)`;
  return `${kind} held by PID ${holder.pid} on ${holder.hostname} by ${holder.username}, created ${holder.createdAt}${age}`;
}
