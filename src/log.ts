/**
 * JSON logs (pino), pretty in the terminal mode. Secrets are kept out two ways: known secret
 * keys are redacted by path, and every string that is logged (the message, and each string inside
 * the logged objects and errors) is scrubbed of registered secret values and of anything shaped
 * like a Slack token before pino serialises it, so a secret that slips into a message or an error
 * string is never written and every line stays valid JSON.
 */
import pino from 'pino';
import type { Logger } from 'pino';
import { createRequire } from 'node:module';

// pino-pretty (and its dependencies, ~8 MB resident) only in the terminal mode: the Slack modes log
// JSON and never load it.
const loadPretty = () => createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty');

const SECRET_ENV = ['SLACK_BOT_TOKEN', 'SLACK_APP_TOKEN', 'SLACK_SIGNING_SECRET', 'ALERTMANAGER_WEBHOOK_TOKEN', 'RESTIC_PASSWORD', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'];

const SECRET_KEYS = [
  'token', 'botToken', 'appToken', 'signingSecret', 'password', 'secret', 'authorization', 'Authorization',
  'RESTIC_PASSWORD', 'RESTIC_REST_PASSWORD', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'B2_ACCOUNT_KEY',
  'AZURE_ACCOUNT_KEY', 'AZURE_ACCOUNT_SAS', 'GOOGLE_APPLICATION_CREDENTIALS', 'SLACK_BOT_TOKEN', 'SLACK_APP_TOKEN',
  'SLACK_SIGNING_SECRET', 'ALERTMANAGER_WEBHOOK_TOKEN', 'x-slack-signature',
];

const REDACT_PATHS = [
  ...SECRET_KEYS,
  ...SECRET_KEYS.map((k) => `*.${k}`),
  ...SECRET_KEYS.map((k) => `*.*.${k}`),
  'headers.authorization', 'req.headers.authorization', 'response_url', '*.response_url', '*.*.response_url', 'env', '*.env', 'data', '*.data', 'stringData', '*.stringData',
];

/** Slack tokens and app tokens, whatever their origin. */
const TOKEN_SHAPES = /\b(xox[abposr]-[A-Za-z0-9-]{6,}|xapp-[A-Za-z0-9-]{6,})/g;

/**
 * A response_url (and any Slack hooks URL) lets whoever holds it post as the bot for 30 minutes, so
 * it is scrubbed like a token: as a value after a `response_url` key in any notation the SDKs log
 * (JSON, escaped JSON with `\/`, form-encoded, util.inspect), and as a hooks.slack.com URL anywhere.
 */
const RESPONSE_URL_VALUE = /(response_url\\*["']?\s*[:=]\s*\\*["']?)(?:\\+\/|[^"'\\\s,&}])+/gi;
const HOOKS_URL = /https?:(?:\\*\/){2}hooks\.slack(?:-gov)?\.com(?:\\*\/[\w%.-]*)*|https?%3A%2F%2Fhooks\.slack(?:-gov)?\.com[\w%.-]*/gi;

export function scrubResponseUrls(text: string): string {
  if (!/response_url|hooks\.slack/i.test(text)) return text;
  return text.replace(RESPONSE_URL_VALUE, '$1[REDACTED]').replace(HOOKS_URL, '[REDACTED]');
}

const secretValues = new Set<string>();

// Scrubbing is global: a registered value is replaced in every later line. A short or repetitive
// value ("true", "1234", a user ID) protects nothing and would rewrite unrelated text.
const MIN_SECRET_LENGTH = 8;
const MIN_SECRET_BITS = 24;

/** Shannon entropy of `value` in bits (per-character entropy × length). */
function entropyBits(value: string): number {
  const counts = new Map<string, number>();
  for (const ch of value) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  const length = [...value].length;
  let bits = 0;
  for (const n of counts.values()) bits -= n * Math.log2(n / length);
  return bits;
}

/**
 * Registers a value that must never be written (a restic password read from a Secret, a token).
 * Values too short or too low in entropy to be a credential are ignored.
 */
export function registerSecret(value: string | undefined): void {
  if (!value) return;
  const trimmed = value.trim();
  if (trimmed.length < MIN_SECRET_LENGTH || entropyBits(trimmed) < MIN_SECRET_BITS) return;
  secretValues.add(value);
  if (trimmed !== value) secretValues.add(trimmed);
}

/** Replaces registered secret values and Slack-token shapes in one string. */
export function scrub(text: string): string {
  let out = scrubResponseUrls(text.replace(TOKEN_SHAPES, '[REDACTED]'));
  for (const v of secretValues) {
    if (out.includes(v)) out = out.split(v).join('[REDACTED]');
    // JSON serialisation escapes some characters; scrub the escaped form too (a string that is
    // itself serialised JSON, such as a response body, carries it).
    const escaped = JSON.stringify(v).slice(1, -1);
    if (escaped !== v && out.includes(escaped)) out = out.split(escaped).join('[REDACTED]');
  }
  return out;
}

const MAX_SCRUB_DEPTH = 8;

/**
 * A copy of a logged value with every string scrubbed; the input is left untouched. Errors stay
 * errors (same prototype, scrubbed message and stack), so pino's serializer still shows them.
 */
function scrubValue(value: unknown, depth = 0, seen = new WeakMap<object, unknown>()): unknown {
  if (typeof value === 'string') return scrub(value);
  if (value === null || typeof value !== 'object' || depth > MAX_SCRUB_DEPTH) return value;
  if (seen.has(value)) return seen.get(value);
  if (Buffer.isBuffer(value) || ArrayBuffer.isView(value) || value instanceof Date) return value;
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    seen.set(value, out);
    for (const item of value) out.push(scrubValue(item, depth + 1, seen));
    return out;
  }
  const isError = value instanceof Error;
  const proto = Object.getPrototypeOf(value) as object | null;
  // Class instances other than errors (a Kubernetes client, a stream) are left to pino.
  if (!isError && proto !== Object.prototype && proto !== null) return value;
  const out = Object.create(proto) as Record<string, unknown>;
  seen.set(value, out);
  const keys = isError ? new Set([...Object.keys(value), 'message', 'stack', 'cause']) : Object.keys(value);
  for (const key of keys) {
    const descriptor = Object.getOwnPropertyDescriptor(value, key);
    if (!descriptor) continue;
    // An error's `stack` is an accessor in current V8: copy what it reads as, as plain data.
    const own = 'value' in descriptor ? descriptor.value : (value as Record<string, unknown>)[key];
    Object.defineProperty(out, key, { value: scrubValue(own, depth + 1, seen), enumerable: descriptor.enumerable ?? true, writable: true, configurable: true });
  }
  return out;
}

/** Scrubs a serialised line as a last resort, keeping it valid JSON (for bindings and the like). */
function scrubLine(line: string): string {
  const scrubbed = scrub(line);
  if (scrubbed === line) return line;
  try {
    return `${JSON.stringify(scrubValue(JSON.parse(line)))}\n`;
  } catch {
    return scrubbed;
  }
}

export function createLogger(opts: { level?: string; pretty?: boolean; destination?: NodeJS.WritableStream; env?: NodeJS.ProcessEnv } = {}): Logger {
  const env = opts.env ?? process.env;
  for (const k of SECRET_ENV) registerSecret(env[k]);
  const options: pino.LoggerOptions = {
    level: opts.level ?? 'info',
    base: { app: 'backup-bot' },
    redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
    hooks: {
      logMethod(args, method) {
        method.apply(this, args.map((arg) => scrubValue(arg)) as Parameters<typeof method>);
      },
      streamWrite: scrubLine,
    },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (opts.pretty) {
    // Synchronous pretty printing to stderr, so terminal replies on stdout stay clean.
    return pino(options, loadPretty()({ destination: 2, sync: true, colorize: Boolean(process.stderr.isTTY), ignore: 'pid,hostname,app' }));
  }
  return opts.destination ? pino(options, opts.destination as pino.DestinationStream) : pino(options);
}
