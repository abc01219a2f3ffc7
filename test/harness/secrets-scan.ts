/**
 * The suite-wide secrets scan: every token, password and key the harness hands out is noted, and
 * everything the bot wrote where a person could read it (the log lines of every real bot process,
 * every payload it sent the Slack stand-in) is kept; at the end of the run the global teardown
 * looks for each secret in all of it and fails the run on any hit.
 *
 * It is on when the global setup set SCAN_DIR_ENV (the full `npm test`); test files run alone
 * record nothing. Files are appended synchronously, so a test process that exits early loses
 * nothing.
 */
import { appendFileSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const SCAN_DIR_ENV = 'BACKUP_BOT_TEST_SCAN_DIR';

/** Shorter values (`xoxb-1`, `true`) would match ordinary text; the suite's real secrets are longer. */
const MIN_SECRET_LENGTH = 10;

function dir(): string | undefined {
  return process.env[SCAN_DIR_ENV] || undefined;
}

function append(kind: 'secrets' | 'logs' | 'slack', lines: string[]): void {
  const d = dir();
  if (!d || lines.length === 0) return;
  mkdirSync(d, { recursive: true });
  appendFileSync(join(d, `${kind}-${process.pid}.jsonl`), `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
}

/** Notes values that must never appear in the bot's output. */
export function noteSecrets(...values: Array<string | undefined>): void {
  append('secrets', values.filter((v): v is string => typeof v === 'string' && v.length >= MIN_SECRET_LENGTH));
}

/** Notes the secret-looking values of an environment handed to a bot process or restic. */
export function noteSecretEnv(env: Record<string, string | undefined>): void {
  noteSecrets(...Object.entries(env).filter(([k]) => /TOKEN|SECRET|PASSWORD|_KEY$|KEY_ID$/.test(k)).map(([, v]) => v));
}

export function noteLogLines(lines: string[]): void {
  append('logs', lines);
}

export function noteSlackPayloads(payloads: unknown[]): void {
  append('slack', payloads.map((p) => (typeof p === 'string' ? p : JSON.stringify(p))));
}

export interface ScanResult {
  secrets: number;
  logLines: number;
  slackPayloads: number;
  hits: Array<{ kind: 'logs' | 'slack'; file: string; secretPrefix: string; excerpt: string }>;
}

function readLines(d: string, prefix: string): Array<{ file: string; line: string }> {
  const out: Array<{ file: string; line: string }> = [];
  for (const f of readdirSync(d).filter((n) => n.startsWith(`${prefix}-`))) {
    for (const raw of readFileSync(join(d, f), 'utf8').split('\n')) {
      if (!raw) continue;
      try {
        out.push({ file: f, line: JSON.parse(raw) as string });
      } catch {
        out.push({ file: f, line: raw });
      }
    }
  }
  return out;
}

export function scanDirectory(d: string): ScanResult {
  mkdirSync(d, { recursive: true });
  const secrets = [...new Set(readLines(d, 'secrets').map((s) => s.line))];
  const result: ScanResult = { secrets: secrets.length, logLines: 0, slackPayloads: 0, hits: [] };
  for (const kind of ['logs', 'slack'] as const) {
    const lines = readLines(d, kind);
    if (kind === 'logs') result.logLines = lines.length;
    else result.slackPayloads = lines.length;
    for (const { file, line } of lines) {
      for (const s of secrets) {
        const at = line.indexOf(s);
        if (at < 0) continue;
        // Never print the secret itself: its first characters and where it was are enough to find it.
        result.hits.push({ kind, file, secretPrefix: `${s.slice(0, 6)}…`, excerpt: `${line.slice(Math.max(0, at - 80), at)}[SECRET]${line.slice(at + s.length, at + s.length + 40)}` });
      }
    }
  }
  return result;
}
