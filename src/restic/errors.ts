// Typed failures of a restic run. Each message is one line an operator can act on; the raw
// (already redacted) stderr stays on the error for a collapsed "details" block, never in the message.
import { describeHolder, parseLockHolder, type LockHolder } from './lock-holder.ts';
import { escapeMrkdwn, untrustedLine } from '../reply.ts';

export type ResticErrorKind =
  | 'missing-credentials'
  | 'not-installed'
  | 'repository-not-found'
  | 'locked'
  | 'wrong-password'
  | 'backend-unreachable'
  | 'backend-tls'
  | 'backend-auth'
  | 'timeout'
  | 'aborted'
  | 'failed';

/** Where the credentials came from, for messages: e.g. "Secret media/plex-restic-secret". */
export interface ResticErrorContext {
  /** The command as the operator would type it, without credentials: "restic list locks". */
  command: string;
  credentialsFrom?: string;
}

export class ResticError extends Error {
  readonly kind: ResticErrorKind;
  /** restic's exit code; null when it never ran to an exit (timeout, abort, not installed). */
  readonly exitCode: number | null;
  /** restic's stderr with every secret value scrubbed. */
  readonly stderr: string;
  readonly command: string;

  constructor(kind: ResticErrorKind, message: string, details: { exitCode: number | null; stderr: string; command: string }) {
    super(message);
    this.name = 'ResticError';
    this.kind = kind;
    this.exitCode = details.exitCode;
    this.stderr = details.stderr;
    this.command = details.command;
  }
}

export class ResticLockedError extends ResticError {
  /** Parsed from restic's "repository is already locked by PID …" text, when it printed one. */
  readonly holder: LockHolder | undefined;

  constructor(message: string, holder: LockHolder | undefined, details: { exitCode: number | null; stderr: string; command: string }) {
    super('locked', message, details);
    this.name = 'ResticLockedError';
    this.holder = holder;
  }
}

const NOISE = [
  /^repo already locked, waiting up to/,
  /^(Load|Save|List|Stat|Remove)\(.*\) (returned error|operation successful)/,
  /retrying in /,
  /^the `unlock` command can be used/,
  /^also, the following messages were logged by a library:$/,
];

/** The line of stderr that says what went wrong, without restic's "Fatal: " prefix. */
export function firstMeaningfulLine(stderr: string): string {
  const lines = stderr
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0 && !NOISE.some((re) => re.test(line)));
  const line = lines.find((l) => l.startsWith('Fatal:')) ?? lines.find((l) => /error|failed|unable/i.test(l)) ?? lines[0];
  return (line ?? '').replace(/^Fatal:\s*/, '');
}

const UNREACHABLE =
  /connection refused|no such host|i\/o timeout|network is unreachable|no route to host|TLS handshake timeout|connection reset by peer|server misbehaving|context deadline exceeded|dial tcp|dial unix/i;
const TLS = /x509:|certificate signed by unknown authority|certificate is (not valid|valid for)|tls: failed to verify/i;
const AUTH_REJECTED =
  /unexpected HTTP response \((401|403)\)|\b(401|403) (Unauthorized|Forbidden)\b|AccessDenied|Access Denied|InvalidAccessKeyId|SignatureDoesNotMatch|AuthorizationFailure|AuthenticationFailed|bad credentials|invalid credentials/i;

// Messages are mrkdwn shown in the channel; stderr is outside text (an S3 endpoint's error body,
// a lock's hostname), so every piece of it is escaped and capped here, where it is interpolated.
const STDERR_LINE_MAX = 300;

function from(ctx: ResticErrorContext, keys: string): string {
  return ctx.credentialsFrom ? `${keys} in ${escapeMrkdwn(ctx.credentialsFrom)}` : keys;
}

/**
 * Maps a finished restic run to the error it means, or undefined for success (exit 0, and 3 for
 * `backup`, which means "snapshot made, some files unreadable" and is reported by the caller).
 */
export function resticErrorFor(
  result: { code: number; stderr: string },
  ctx: ResticErrorContext,
): ResticError | undefined {
  const { code, stderr } = result;
  const details = { exitCode: code, stderr, command: ctx.command };
  if (code === 0) return undefined;
  switch (code) {
    case 10:
      return new ResticError(
        'repository-not-found',
        `\`${ctx.command}\` failed: there is no restic repository at the configured location — check ${from(ctx, 'RESTIC_REPOSITORY')} (bucket, path, endpoint); the Secret may point at the wrong place.`,
        details,
      );
    case 11: {
      const holder = parseLockHolder(stderr);
      const who = holder ? untrustedLine(describeHolder(holder), STDERR_LINE_MAX) : 'another process holds a lock';
      return new ResticLockedError(
        `\`${ctx.command}\` failed: the repository is locked (${who}) — run \`/restic locks\` to see whether it is stale before unlocking.`,
        holder,
        details,
      );
    }
    case 12:
      return new ResticError(
        'wrong-password',
        `\`${ctx.command}\` failed: wrong password — ${from(ctx, 'RESTIC_PASSWORD')} does not open any key of this repository.`,
        details,
      );
    case 130:
      return new ResticError('aborted', `\`${ctx.command}\` was interrupted before it finished.`, details);
  }
  const backend = backendErrorFor(stderr, ctx, details);
  if (backend) return backend;
  const line = untrustedLine(firstMeaningfulLine(stderr), STDERR_LINE_MAX);
  return new ResticError(
    'failed',
    `\`${ctx.command}\` failed (exit ${code}): ${line || 'no error message'}`,
    details,
  );
}

/** A retry line: restic keeps retrying a failing backend for 15 minutes before it gives up. */
export const BACKEND_RETRY = /returned error, retrying after/;

/**
 * The backend failure that stderr shows (TLS, rejected credentials, unreachable), or undefined.
 * Used for finished runs and for runs the bot stopped while restic was still retrying.
 */
export function backendErrorFor(
  stderr: string,
  ctx: ResticErrorContext,
  details: { exitCode: number | null; stderr: string; command: string },
): ResticError | undefined {
  const line = untrustedLine(backendLine(stderr), STDERR_LINE_MAX);
  if (TLS.test(stderr)) {
    return new ResticError(
      'backend-tls',
      `\`${ctx.command}\` failed: the backend's TLS certificate was not accepted (${line}) — if it uses a private CA, set spec.restic.customCA on the ReplicationSource.`,
      details,
    );
  }
  if (AUTH_REJECTED.test(stderr)) {
    return new ResticError(
      'backend-auth',
      `\`${ctx.command}\` failed: the storage backend rejected the credentials (${line}) — check the backend keys (AWS_*, B2_*, AZURE_*, RESTIC_REST_*…)${ctx.credentialsFrom ? ` in ${escapeMrkdwn(ctx.credentialsFrom)}` : ''}.`,
      details,
    );
  }
  if (UNREACHABLE.test(stderr)) {
    return new ResticError(
      'backend-unreachable',
      `\`${ctx.command}\` failed: the storage backend is unreachable from the bot (${line}) — check the endpoint in ${from(ctx, 'RESTIC_REPOSITORY')} and the network path (DNS, proxy, NetworkPolicy).`,
      details,
    );
  }
  return undefined;
}

/** The line naming the backend failure, without restic's retry or "Fatal:" prefix. */
function backendLine(stderr: string): string {
  const lines = stderr
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => TLS.test(l) || AUTH_REJECTED.test(l) || UNREACHABLE.test(l));
  const line = lines.find((l) => l.startsWith('Fatal:')) ?? lines[lines.length - 1] ?? firstMeaningfulLine(stderr);
  return line.replace(/^Fatal:\s*/, '').replace(/^.*? returned error, retrying after [^:]*: /, '');
}
