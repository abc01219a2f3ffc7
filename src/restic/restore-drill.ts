/**
 * Proof that a backup restores: `restic check --read-data-subset` over the repository, then a
 * sample of the newest snapshot (a bounded number of files and bytes, spread over the tree)
 * restored with `--verify` into a private temporary directory, compared with the snapshot's own
 * listing (`restic ls --json`: every sampled file there, with its size), and the directory removed
 * on every path. Directories a crashed drill left behind are removed at start-up (sweepDrillDirs).
 */
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { drillDirPrefix } from './drill-dirs.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ResticTarget, RunResticOptions } from './run.ts';
import { runRestic, runResticChecked } from './run.ts';
import { firstMeaningfulLine, ResticError } from './errors.ts';
import { listSnapshots } from './snapshots.ts';
import { inlineCode, untrustedLine as oneLine } from '../reply.ts';
import type { ResticSnapshot } from './snapshots.ts';


export interface DrillOptions extends RunResticOptions {
  /** restic's --read-data-subset: "5%", "1/10", "250M". */
  readDataSubset: string;
  maxFiles: number;
  maxBytes: number;
  /** Where the private directory is made (default the OS temp dir). */
  root?: string;
}

export interface SnapshotFile {
  path: string;
  size: number;
}

export interface DrillReport {
  snapshot?: ResticSnapshot;
  check: { ok: boolean; line: string };
  /** Files in the snapshot, and the sample restored from them. */
  listed: number;
  sampled: SnapshotFile[];
  verified: { files: number; bytes: number };
  /** Exactly what failed; empty when the drill passed. */
  problems: string[];
}

/** `restic ls --json <id>`: the regular files of the snapshot (other nodes and malformed lines ignored). */
export function parseLsFiles(output: string): SnapshotFile[] {
  const files: SnapshotFile[] = [];
  for (const line of output.split('\n')) {
    if (!line.trim()) continue;
    let n: unknown;
    try {
      n = JSON.parse(line);
    } catch {
      continue;
    }
    if (typeof n !== 'object' || n === null) continue;
    const node = n as Record<string, unknown>;
    if (node['struct_type'] !== 'node' || node['type'] !== 'file' || typeof node['path'] !== 'string') continue;
    const size = typeof node['size'] === 'number' && node['size'] >= 0 ? node['size'] : 0;
    files.push({ path: node['path'], size });
  }
  return files;
}

/**
 * At most `maxFiles` files and `maxBytes` bytes, spread evenly over the tree in path order (so
 * the sample is not one directory), and the same for the same snapshot. A file alone bigger than
 * the byte budget is left out; an empty snapshot gives an empty sample.
 */
export function sampleFiles(files: readonly SnapshotFile[], maxFiles: number, maxBytes: number): SnapshotFile[] {
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const step = Math.max(1, sorted.length / Math.max(1, maxFiles));
  const out: SnapshotFile[] = [];
  let bytes = 0;
  for (let i = 0; i < sorted.length && out.length < maxFiles; i += step) {
    const f = sorted[Math.floor(i)]!;
    if (bytes + f.size > maxBytes) continue;
    out.push(f);
    bytes += f.size;
  }
  return out;
}

/** A path as a restic include pattern that matches only itself (glob characters escaped). */
export function literalPattern(path: string): string {
  return path.replace(/[\\*?[\]]/g, (c) => `\\${c}`);
}

export async function restoreDrill(target: ResticTarget, opts: DrillOptions): Promise<DrillReport> {
  const { readDataSubset, maxFiles, maxBytes, root, ...run } = opts;
  const report: DrillReport = { check: { ok: false, line: '' }, listed: 0, sampled: [], verified: { files: 0, bytes: 0 }, problems: [] };

  // Without a lock throughout: the drill must not block a mover (a prune needs the repository to
  // itself, and restic's check would take it exclusively). The caller refuses while an exclusive
  // lock is held; a backup running beside it only adds packs, which check does not mind.
  const check = await runRestic(target, ['check', '--no-lock', `--read-data-subset=${readDataSubset}`], run);
  report.check = check.code === 0
    ? { ok: true, line: `\`restic check --read-data-subset=${readDataSubset}\` found no errors` }
    : { ok: false, line: `\`restic check\` failed: ${oneLine(firstMeaningfulLine(`${check.stderr}\n${check.stdout}`) || `exit code ${check.code}`)}` };
  if (!report.check.ok) report.problems.push(report.check.line);

  const snapshot = (await listSnapshots(target, run))[0];
  if (!snapshot) {
    report.problems.push('The repository has no snapshot to restore.');
    return report;
  }
  report.snapshot = snapshot;
  let files: SnapshotFile[];
  try {
    files = parseLsFiles((await runResticChecked(target, ['ls', '--json', '--no-lock', snapshot.id], run)).stdout);
  } catch (err) {
    if (!(err instanceof ResticError) || err.kind !== 'failed') throw err;
    report.problems.push(`The listing of snapshot \`${snapshot.shortId}\` cannot be read: ${err.message}`);
    return report;
  }
  report.listed = files.length;
  report.sampled = sampleFiles(files, maxFiles, maxBytes);
  if (!report.sampled.length) {
    report.problems.push(files.length ? `No file of snapshot \`${snapshot.shortId}\` fits the sample's ${maxBytes} bytes.` : `Snapshot \`${snapshot.shortId}\` holds no files: there is nothing to restore.`);
    return report;
  }

  const dir = await mkdtemp(join(root ?? tmpdir(), drillDirPrefix()));
  try {
    const include = join(dir, 'include.txt');
    await writeFile(include, `${report.sampled.map((f) => literalPattern(f.path)).join('\n')}\n`, { mode: 0o600 });
    const out = join(dir, 'restored');
    const restored = await runRestic(target, ['restore', '--no-lock', snapshot.id, '--target', out, '--include-file', include, '--verify'], run);
    if (restored.code !== 0) report.problems.push(`\`restic restore\` failed: ${oneLine(firstMeaningfulLine(restored.stderr) || `exit code ${restored.code}`)}`);
    const missing: string[] = [];
    const wrongSize: string[] = [];
    for (const f of report.sampled) {
      const s = await stat(join(out, f.path)).catch(() => undefined);
      if (!s?.isFile()) missing.push(f.path);
      else if (s.size !== f.size) wrongSize.push(`${f.path} (${s.size} of ${f.size} bytes)`);
      else {
        report.verified.files++;
        report.verified.bytes += f.size;
      }
    }
    const few = (xs: string[]) => `${xs.slice(0, 3).map((x) => inlineCode(x)).join(', ')}${xs.length > 3 ? ` and ${xs.length - 3} more` : ''}`;
    if (missing.length) report.problems.push(`${missing.length} of ${report.sampled.length} sampled files were not restored: ${few(missing)}.`);
    if (wrongSize.length) report.problems.push(`${wrongSize.length} restored files differ in size from the snapshot's listing: ${few(wrongSize)}.`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return report;
}
