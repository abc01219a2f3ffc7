// Runs one restic command against one repository, with only that repository's credentials.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { constants as osConstants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { resticBinary } from './binary.ts';
import { buildResticEnvironment, GOOGLE_CREDENTIALS_KEY, REQUIRED_SECRET_KEYS } from './environment.ts';
import { BACKEND_RETRY, backendErrorFor, ResticError, resticErrorFor } from './errors.ts';
import { redact } from './redact.ts';

export interface ResticTarget {
  /** RESTIC_REPOSITORY. Itself a secret: a URL may carry a password, so it never goes on argv. */
  repository: string;
  /** The repository Secret's data, decoded. Only the keys VolSync's mover passes are used. */
  env: Record<string, string>;
  /** Path of a CA bundle file (the ReplicationSource's customCA, written out by the caller). */
  cacert?: string;
  /** For messages only, e.g. "Secret media/plex-restic-secret". */
  credentialsFrom?: string;
}

export interface RunResticOptions {
  /** Default 120 s. On expiry restic gets SIGTERM (it then removes its own lock), later SIGKILL. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** restic binary; default RESTIC_BIN or `restic` on PATH. */
  bin?: string;
  /** Between SIGTERM and SIGKILL. Default 5 s. */
  killGraceMs?: number;
  /**
   * restic retries a failing backend for 15 minutes. A person waiting in Slack is better served by
   * "unreachable" now: after this many retries of a network, TLS or credentials error the run is
   * stopped and reported as such. Default 3 (about 7 s); 0 lets restic retry until the timeout.
   */
  giveUpAfterBackendRetries?: number;
}

export interface ResticResult {
  code: number;
  stdout: string;
  /** With every secret value of the target replaced by "[redacted KEY]". */
  stderr: string;
}

const DEFAULT_TIMEOUT_MS = 120_000;
const DEFAULT_KILL_GRACE_MS = 5_000;
const DEFAULT_BACKEND_RETRIES = 3;
const ANSI_ESCAPE = /\x1b\[[0-9;?]*[A-Za-z]/g;
// Lock listings are small; a runaway command must not take the bot's memory with it.
const MAX_OUTPUT_BYTES = 16 * 1024 * 1024;

/** The values to scrub from anything restic says: the Secret's plus the repository itself. */
export function secretsOf(target: ResticTarget): Record<string, string> {
  return { ...target.env, RESTIC_REPOSITORY: target.repository };
}

/** "restic list locks": the command for messages; arguments are ours, never credentials. */
export function describeCommand(args: readonly string[]): string {
  return ['restic', ...args.filter((a) => a !== '--no-lock' && !/^[0-9a-f]{64}$/.test(a))].join(' ');
}

/**
 * Runs restic and resolves with its exit code and output, whatever the code (see
 * `runResticChecked` to turn a failure into a typed error). Rejects with a ResticError only when
 * restic could not run to an exit: missing credentials, binary not found, timeout, abort.
 */
export async function runRestic(
  target: ResticTarget,
  args: readonly string[],
  opts: RunResticOptions = {},
): Promise<ResticResult> {
  const command = describeCommand(args);
  const secrets = secretsOf(target);
  const credentialsFrom = target.credentialsFrom ? ` in ${target.credentialsFrom}` : '';
  for (const key of REQUIRED_SECRET_KEYS) {
    const value = key === 'RESTIC_REPOSITORY' ? target.repository : target.env[key];
    if (value === undefined || value === '') {
      throw new ResticError('missing-credentials', `\`${command}\` cannot run: ${key} is missing or empty${credentialsFrom} — add it to the repository Secret.`, {
        exitCode: null,
        stderr: '',
        command,
      });
    }
  }
  if (opts.signal?.aborted) {
    throw new ResticError('aborted', `\`${command}\` was cancelled before it started.`, { exitCode: null, stderr: '', command });
  }

  // Private per run: restic's HOME and cache, and the GCS credentials file, are readable only by us
  // and gone when the run ends.
  const privateDir = await mkdtemp(join(tmpdir(), 'backup-bot-restic-'));
  try {
    let googleCredentialsFile: string | undefined;
    const googleCredentials = target.env[GOOGLE_CREDENTIALS_KEY];
    if (googleCredentials !== undefined) {
      googleCredentialsFile = join(privateDir, 'gcs.json');
      await writeFile(googleCredentialsFile, googleCredentials, { mode: 0o600 });
    }
    const env = buildResticEnvironment(target.env, {
      repository: target.repository,
      privateDir,
      ...(googleCredentialsFile !== undefined ? { googleCredentialsFile } : {}),
    });
    const argv = [...(target.cacert !== undefined ? ['--cacert', target.cacert] : []), ...args];
    // restic draws progress with terminal escapes even on a pipe; they are noise in a message.
    const scrub = (text: string): string => redact(text.replace(ANSI_ESCAPE, ''), secrets);
    const raw = await spawnRestic(opts.bin ?? resticBinary(), argv, env, { command, scrub, credentialsFrom: target.credentialsFrom }, opts);
    return { code: raw.code, stdout: raw.stdout, stderr: scrub(raw.stderr) };
  } finally {
    await rm(privateDir, { recursive: true, force: true });
  }
}

/** Runs restic and throws the typed error its exit code means; resolves only on exit 0. */
export async function runResticChecked(
  target: ResticTarget,
  args: readonly string[],
  opts: RunResticOptions = {},
): Promise<ResticResult> {
  const result = await runRestic(target, args, opts);
  const error = resticErrorFor(result, {
    command: describeCommand(args),
    ...(target.credentialsFrom !== undefined ? { credentialsFrom: target.credentialsFrom } : {}),
  });
  if (error) throw error;
  return result;
}

function spawnRestic(
  bin: string,
  argv: string[],
  env: Record<string, string>,
  ctx: { command: string; scrub: (text: string) => string; credentialsFrom: string | undefined },
  opts: RunResticOptions,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const { command, scrub } = ctx;
  const errorContext = { command, ...(ctx.credentialsFrom !== undefined ? { credentialsFrom: ctx.credentialsFrom } : {}) };
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const graceMs = opts.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
  const retryLimit = opts.giveUpAfterBackendRetries ?? DEFAULT_BACKEND_RETRIES;
  return new Promise((resolve, reject) => {
    // Own process group, so a backend helper restic started (rclone, ssh) is stopped with it.
    // stdin is /dev/null: restic must never sit waiting for a password on a pipe.
    const child = spawn(bin, argv, { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outBytes = 0;
    let errBytes = 0;
    let stoppedBecause: 'timeout' | 'aborted' | 'backend-failing' | undefined;
    let backendRetries = 0;
    let partialLine = '';
    let killTimer: NodeJS.Timeout | undefined;

    child.stdout.on('data', (chunk: Buffer) => {
      if (outBytes < MAX_OUTPUT_BYTES) out.push(chunk);
      outBytes += chunk.length;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (errBytes < MAX_OUTPUT_BYTES) err.push(chunk);
      errBytes += chunk.length;
      if (retryLimit <= 0) return;
      const lines = (partialLine + chunk.toString('utf8')).split('\n');
      partialLine = lines.pop() ?? '';
      for (const line of lines) {
        if (BACKEND_RETRY.test(line) && backendErrorFor(line, errorContext, { exitCode: null, stderr: '', command })) {
          backendRetries += 1;
        }
      }
      if (backendRetries >= retryLimit) stop('backend-failing');
    });

    const signalGroup = (signal: NodeJS.Signals): void => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, signal);
      } catch {
        // Already gone.
      }
    };
    const stop = (why: 'timeout' | 'aborted' | 'backend-failing'): void => {
      if (stoppedBecause) return;
      stoppedBecause = why;
      signalGroup('SIGTERM');
      killTimer = setTimeout(() => signalGroup('SIGKILL'), graceMs);
    };
    const timer = setTimeout(() => stop('timeout'), timeoutMs);
    const onAbort = (): void => stop('aborted');
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const cleanup = (): void => {
      clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      opts.signal?.removeEventListener('abort', onAbort);
    };

    child.on('error', (error: NodeJS.ErrnoException) => {
      cleanup();
      if (error.code === 'ENOENT') {
        reject(
          new ResticError('not-installed', `restic was not found (tried \`${bin}\`) — install restic 0.18 on the bot's PATH or set RESTIC_BIN.`, {
            exitCode: null,
            stderr: '',
            command,
          }),
        );
      } else {
        reject(new ResticError('failed', `\`${command}\` could not start: ${error.message}`, { exitCode: null, stderr: '', command }));
      }
    });

    child.on('close', (code, signal) => {
      cleanup();
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      if (stoppedBecause === 'timeout' || stoppedBecause === 'backend-failing') {
        const details = { exitCode: null, stderr: scrub(stderr), command };
        // restic was still retrying a backend error: that error is the news, not our stopwatch.
        const backend = backendErrorFor(details.stderr, errorContext, details);
        if (backend) {
          reject(backend);
          return;
        }
        reject(
          new ResticError(
            'timeout',
            `\`${command}\` did not finish within ${formatSeconds(timeoutMs)} and was stopped — the backend may be slow or unreachable; check it and retry.`,
            details,
          ),
        );
        return;
      }
      if (stoppedBecause === 'aborted') {
        reject(new ResticError('aborted', `\`${command}\` was cancelled and stopped.`, { exitCode: null, stderr: scrub(stderr), command }));
        return;
      }
      // Killed by someone else: report it the way a shell would (128 + signal number).
      const exit = code ?? 128 + (signal ? (osConstants.signals[signal] ?? 0) : 0);
      resolve({ code: exit, stdout, stderr });
    });
  });
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}
