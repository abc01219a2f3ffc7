/**
 * JSON logs (pino), pretty in the terminal mode. Secrets are kept out two ways: known secret
 * keys are redacted by path, and every serialized line is scrubbed of registered secret values
 * and of anything shaped like a Slack token, so a secret that slips into a message or an error
 * string is still never written.
 */
import pino from 'pino';
import type { Logger } from 'pino';
import pretty from 'pino-pretty';

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

/** Registers a value that must never be written (a restic password read from a Secret, a token). */
export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 4) secretValues.add(value);
}

export function scrub(text: string): string {
  let out = scrubResponseUrls(text.replace(TOKEN_SHAPES, '[REDACTED]'));
  for (const v of secretValues) {
    if (out.includes(v)) out = out.split(v).join('[REDACTED]');
    // JSON serialisation escapes some characters; scrub the escaped form too.
    const escaped = JSON.stringify(v).slice(1, -1);
    if (escaped !== v && out.includes(escaped)) out = out.split(escaped).join('[REDACTED]');
  }
  return out;
}

export function createLogger(opts: { level?: string; pretty?: boolean; destination?: NodeJS.WritableStream; env?: NodeJS.ProcessEnv } = {}): Logger {
  const env = opts.env ?? process.env;
  for (const k of SECRET_ENV) registerSecret(env[k]);
  const options: pino.LoggerOptions = {
    level: opts.level ?? 'info',
    base: { app: 'backup-bot' },
    redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
    hooks: { streamWrite: scrub },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (opts.pretty) {
    // Synchronous pretty printing to stderr, so terminal replies on stdout stay clean.
    return pino(options, pretty({ destination: 2, sync: true, colorize: Boolean(process.stderr.isTTY), ignore: 'pid,hostname,app' }));
  }
  return opts.destination ? pino(options, opts.destination as pino.DestinationStream) : pino(options);
}
