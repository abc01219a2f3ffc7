/**
 * A repository's snapshots as restic itself lists them (`restic snapshots --json --no-lock`), read
 * without taking a lock so a read never blocks a mover, and parsed defensively: restic's JSON is
 * outside input, so a field of the wrong type is dropped, never trusted.
 */
import type { ResticTarget, RunResticOptions } from './run.ts';
import { runResticChecked } from './run.ts';

/** What restic ≥ 0.17 writes into each snapshot at the end of its backup. */
export interface SnapshotSummary {
  filesNew: number;
  filesChanged: number;
  /** Files the backup read (new, changed and unmodified): how big the source was. */
  filesProcessed: number;
  bytesProcessed: number;
  /** Bytes this snapshot added to the repository (before compression). */
  dataAdded: number;
}

export interface ResticSnapshot {
  id: string;
  shortId: string;
  time: Date;
  hostname: string;
  paths: string[];
  tags: string[];
  summary?: SnapshotSummary;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

function summaryOf(v: unknown): SnapshotSummary | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const s = v as Record<string, unknown>;
  const filesProcessed = num(s['total_files_processed']);
  const bytesProcessed = num(s['total_bytes_processed']);
  if (filesProcessed === undefined || bytesProcessed === undefined) return undefined;
  return { filesNew: num(s['files_new']) ?? 0, filesChanged: num(s['files_changed']) ?? 0, filesProcessed, bytesProcessed, dataAdded: num(s['data_added']) ?? 0 };
}

/** `restic snapshots --json` → snapshots, newest first; entries without an ID or a valid time are left out. */
export function parseSnapshots(json: string): ResticSnapshot[] {
  const raw: unknown = JSON.parse(json);
  if (!Array.isArray(raw)) throw new SyntaxError('restic snapshots --json did not print a list');
  const out: ResticSnapshot[] = [];
  for (const entry of raw) {
    if (typeof entry !== 'object' || entry === null) continue;
    const e = entry as Record<string, unknown>;
    const id = str(e['id']);
    const time = new Date(str(e['time']) ?? '');
    if (!id || !/^[0-9a-f]{64}$/.test(id) || Number.isNaN(time.getTime())) continue;
    const summary = summaryOf(e['summary']);
    out.push({ id, shortId: id.slice(0, 8), time, hostname: str(e['hostname']) ?? '', paths: strings(e['paths']), tags: strings(e['tags']), ...(summary ? { summary } : {}) });
  }
  return out.sort((a, b) => b.time.getTime() - a.time.getTime());
}

/** Every snapshot of the repository, newest first. Takes no lock. */
export async function listSnapshots(target: ResticTarget, opts: RunResticOptions = {}): Promise<ResticSnapshot[]> {
  const { stdout } = await runResticChecked(target, ['snapshots', '--json', '--no-lock'], opts);
  return parseSnapshots(stdout);
}
