/**
 * The repository's own truth against what the ReplicationSource says, as one-line verdicts with
 * their evidence (pure: the snapshots and the source in, verdicts out):
 *
 * - **CR vs repository**: `status.lastSyncTime` against the newest snapshot (the CR says synced
 *   10 minutes ago but the newest snapshot is 3 days old; or the sync "failed" after its snapshot
 *   was saved: VolSync runs backup, then forget, in one mover job, so a lock at forget fails a
 *   sync whose data is safe);
 * - **retention applied?**: snapshots per host and paths against `spec.restic.retain` (more than
 *   the policy keeps means forget/prune is not running);
 * - **prune due?**: `status.restic.lastPruned` against `spec.restic.pruneIntervalDays`;
 * - **suspicious snapshot**: the newest far smaller than the median of the ones before it, or empty.
 */
import type { ReplicationSource } from '../volsync/source.ts';
import { ms } from '../backup/objects.ts';
import { bytes, duration, plural } from '../text.ts';
import type { ResticSnapshot } from './snapshots.ts';

export type TruthKind = 'no-snapshot' | 'cr-ahead' | 'failed-but-saved' | 'retention' | 'prune' | 'suspicious';

export interface TruthVerdict {
  kind: TruthKind;
  /** A problem the operator should act on; false for an informative line (the sync failed but the data is safe). */
  problem: boolean;
  line: string;
}

export interface TruthOptions {
  /** How far the CR's last sync may be after the newest snapshot (the sync's own duration). Default 1 h. */
  syncSlackMs?: number;
  /** A newest snapshot below this share of the median is suspicious. Default 0.1. */
  suspiciousRatio?: number;
}

/** VolSync prunes every 7 days unless `pruneIntervalDays` says otherwise. */
export const DEFAULT_PRUNE_INTERVAL_DAYS = 7;
const DAY_MS = 86_400_000;
/** The ones before the newest that its size is compared with. */
const COMPARED = 10;
const MIN_COMPARED = 3;

interface Retain { last?: number; hourly?: number; daily?: number; weekly?: number; monthly?: number; yearly?: number; within?: string }

const count = (v: unknown): number | undefined => {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : undefined;
  return n !== undefined && Number.isInteger(n) && n >= 0 ? n : undefined;
};

function retainOf(rs: ReplicationSource): Retain | undefined {
  const r = (rs.spec?.restic as { retain?: unknown } | undefined)?.retain;
  if (typeof r !== 'object' || r === null) return undefined;
  const o = r as Record<string, unknown>;
  const out: Retain = {};
  for (const k of ['last', 'hourly', 'daily', 'weekly', 'monthly', 'yearly'] as const) {
    const n = count(o[k]);
    if (n !== undefined) out[k] = n;
  }
  if (typeof o['within'] === 'string' && o['within']) out.within = o['within'];
  return Object.keys(out).length ? out : undefined;
}

/** The most snapshots `forget` leaves per host and paths (the sum of the keep counts; overlaps only lower it). */
export function retainedAtMost(retain: Retain): number | undefined {
  if (retain.within) return undefined;
  return (retain.last ?? 0) + (retain.hourly ?? 0) + (retain.daily ?? 0) + (retain.weekly ?? 0) + (retain.monthly ?? 0) + (retain.yearly ?? 0);
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

const ago = (t: number, now: number) => `${duration(now - t)} ago`;

/** Every verdict that applies, problems first; empty when the repository agrees with its source. */
export function repositoryTruth(rs: ReplicationSource, snapshots: readonly ResticSnapshot[], now: Date, opts: TruthOptions = {}): TruthVerdict[] {
  const t = now.getTime();
  const out: TruthVerdict[] = [];
  const newest = snapshots[0];
  const lastSync = ms(rs.status?.lastSyncTime);
  const failed = rs.status?.latestMoverStatus?.result === 'Failed';

  if (!newest) {
    out.push({ kind: 'no-snapshot', problem: true, line: `The repository has no snapshot${lastSync !== undefined ? `, yet the ReplicationSource says it synced ${ago(lastSync, t)}` : ''}: nothing here can be restored.` });
  } else {
    const slack = opts.syncSlackMs ?? 3_600_000;
    const newestAt = newest.time.getTime();
    if (lastSync !== undefined && lastSync - newestAt > slack) {
      out.push({ kind: 'cr-ahead', problem: true, line: `The ReplicationSource says it synced ${ago(lastSync, t)}, but the newest snapshot (\`${newest.shortId}\`) is from ${ago(newestAt, t)}: the syncs since did not reach the repository.` });
    }
    if (failed && (lastSync === undefined || newestAt > lastSync)) {
      out.push({ kind: 'failed-but-saved', problem: false, line: `The last sync failed, but its snapshot \`${newest.shortId}\` (${ago(newestAt, t)}) is in the repository: the data is safe; what failed came after the backup (forget or prune, often a lock).` });
    }

    const retain = retainOf(rs);
    const most = retain ? retainedAtMost(retain) : undefined;
    if (most !== undefined && most > 0) {
      const groups = new Map<string, number>();
      for (const s of snapshots) {
        const key = `${s.hostname}\u0000${[...s.paths].sort().join('\u0000')}`;
        groups.set(key, (groups.get(key) ?? 0) + 1);
      }
      const worst = Math.max(...groups.values());
      // One more than the policy keeps is the snapshot taken just before its forget runs.
      if (worst > most + 1) {
        out.push({ kind: 'retention', problem: true, line: `${plural(worst, 'snapshot')} where the retention policy keeps at most ${most}: \`forget\` is not running (a lock or a failing mover stops it), and the repository grows without bound.` });
      }
    }

    const lastPruned = ms((rs.status as { restic?: { lastPruned?: string | Date } } | undefined)?.restic?.lastPruned);
    const days = count((rs.spec?.restic as { pruneIntervalDays?: unknown } | undefined)?.pruneIntervalDays) ?? DEFAULT_PRUNE_INTERVAL_DAYS;
    const since = lastPruned ?? ms(rs.metadata?.creationTimestamp);
    // A day of grace: the prune runs with the first sync after it is due.
    if (days > 0 && since !== undefined && t - since > (days + 1) * DAY_MS) {
      out.push({
        kind: 'prune', problem: true,
        line: lastPruned !== undefined
          ? `Prune overdue: last pruned ${ago(lastPruned, t)}, every ${plural(days, 'day')} by the policy: space from forgotten snapshots is not given back.`
          : `Never pruned, though the source is ${duration(t - since)} old and prunes every ${plural(days, 'day')}.`,
      });
    }

    const before = snapshots.slice(1, 1 + COMPARED).filter((s) => s.summary);
    if (newest.summary && before.length >= MIN_COMPARED) {
      const ratio = opts.suspiciousRatio ?? 0.1;
      const files = median(before.map((s) => s.summary!.filesProcessed));
      const size = median(before.map((s) => s.summary!.bytesProcessed));
      const n = newest.summary;
      if (n.filesProcessed === 0 || n.bytesProcessed === 0) {
        out.push({ kind: 'suspicious', problem: true, line: `The newest snapshot \`${newest.shortId}\` (${ago(newest.time.getTime(), t)}) is empty (${plural(n.filesProcessed, 'file')}, ${bytes(n.bytesProcessed)}), where the ones before held ${plural(Math.round(files), 'file')}, ${bytes(size)}: was the volume mounted?` });
      } else if ((files > 0 && n.filesProcessed < files * ratio) || (size > 0 && n.bytesProcessed < size * ratio)) {
        out.push({ kind: 'suspicious', problem: true, line: `The newest snapshot \`${newest.shortId}\` (${ago(newest.time.getTime(), t)}) is far smaller than the ones before: ${plural(n.filesProcessed, 'file')}, ${bytes(n.bytesProcessed)} against a median of ${plural(Math.round(files), 'file')}, ${bytes(size)}. Check the volume before the good snapshots are forgotten.` });
      }
    }
  }
  return out.sort((a, b) => Number(b.problem) - Number(a.problem));
}
