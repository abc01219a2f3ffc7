/**
 * Configuration: secrets from the environment, everything else from one YAML file
 * (`BACKUP_BOT_CONFIG`, else ./backup-bot.yaml when present, else built-in defaults).
 * An invalid file stops start-up with a message that names the field and the expected value.
 */
import { existsSync, readFileSync } from 'node:fs';
import { IANAZone } from 'luxon';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { parseCrashPatterns } from './alerts/crash-pattern.ts';
import { isDnsLabel, isDnsSubdomain } from './command/names.ts';

const slackId = (prefix: string, what: string) =>
  z.string().regex(new RegExp(`^[${prefix}][A-Z0-9]{2,}$`), `expected a Slack ${what} ID such as ${prefix[0]}0123ABCD`);

/** The message names what is expected and what was given (an unquoted 02:00 reaches us as a number). */
const got = (expected: string) => ({ error: (iss: { input?: unknown }) => `${expected}; got ${JSON.stringify(iss.input)}` });

const HHMM = 'expected a 24-hour time "HH:MM" (quoted in YAML), such as "02:00"';
const hhmm = z.string(got(HHMM)).regex(/^([01]\d|2[0-3]):[0-5]\d$/, got(HHMM));

const regex = z.string().min(1).refine((s) => {
  try {
    new RegExp(s);
    return true;
  } catch {
    return false;
  }
}, 'expected a valid regular expression');

const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
const weekday = z.enum(WEEKDAYS, got(`expected one of the lowercase three-letter names ${WEEKDAYS.join(', ')}`));

export const DEFAULT_TRANSIENT_PODS = ['kube-scheduler-.*', 'kube-controller-manager-.*', 'kube-apiserver-.*', 'etcd-.*'];
/** Where the control-plane pods of DEFAULT_TRANSIENT_PODS run; an application's `etcd-0` elsewhere is not a transient. */
export const DEFAULT_TRANSIENT_NAMESPACES = ['kube-system'];

const namespaceName = z.string().refine(isDnsLabel, 'expected a Kubernetes namespace name such as "kube-system"');

const GRACE = 'expected a whole number of minutes from 0 to 720';

const windowSchema = z.object({
  name: z.string(got('expected a short lowercase name such as "pbs"')).regex(/^[a-z0-9][a-z0-9-]{0,40}$/, got('expected a short lowercase name such as "pbs"')),
  zone: z.string().default('UTC').refine((z) => IANAZone.isValidZone(z), got('expected an IANA time zone such as "UTC" or "Pacific/Auckland"')),
  days: z.array(weekday).min(1, got(`expected at least one of ${WEEKDAYS.join(', ')} (the days the window starts on)`)).default([...WEEKDAYS]),
  start: hhmm,
  end: hhmm,
  mode: z.enum(['annotate', 'mute']).default('annotate'),
  transientPods: z.array(regex).default(DEFAULT_TRANSIENT_PODS),
  /** Only pods in these namespaces count as transient, and a mute silence matches only them. */
  namespaces: z.array(namespaceName)
    .min(1, 'expected at least one namespace, such as [kube-system]: the window\'s patterns must not match pods of every namespace')
    .default(DEFAULT_TRANSIENT_NAMESPACES),
  graceMinutes: z.number(got(GRACE)).int(got(GRACE)).min(0, got(GRACE)).max(720, got(GRACE)).default(15),
  /** Alert names treated as crash loops by the window (mute silences, summary); default KubePodCrashLooping, HomelabPodCrashLooping, PodCrashLooping. */
  alertNames: z.array(z.string().min(1)).optional(),
  /** Where the window's summary goes; default alerts.channel. */
  channel: slackId('CG', 'channel').optional(),
}).strict();

const MINUTES = (max: number) => `expected a whole number of minutes from 0 to ${max}`;
const minutes = (max: number, dflt: number) => z.number(got(MINUTES(max))).int(got(MINUTES(max))).min(0, got(MINUTES(max))).max(max, got(MINUTES(max))).default(dflt);

/** The backup watch (schedules/backup-watch.ts): when a source's problem becomes an incident, and where it is posted. */
const watchSchema = z.object({
  /** Runs in the Slack modes (the terminal lists problems on demand with /backup incidents). */
  enabled: z.boolean(got('expected true or false')).default(true),
  /** Where incidents go when no alerts.routes entry matches the namespace; default alerts.channel. */
  channel: slackId('CG', 'channel').optional(),
  /** A source is overdue after its schedule's interval plus this long without a successful sync. */
  overdueGraceMinutes: minutes(1440, 30),
  /** A mover pod Pending / ContainerCreating for this long is stuck. */
  stuckMinutes: minutes(1440, 15),
  /** A PVC labelled backups.pvcLabel without a ReplicationSource for this long is unprotected. */
  unprotectedGraceMinutes: minutes(10080, 60),
  /** Sources never turned into incidents: a whole namespace, or one name (source or PVC) in it. */
  ignore: z.array(z.object({
    namespace: namespaceName,
    name: z.string().refine(isDnsSubdomain, got('expected a Kubernetes object name such as "media"')).optional(),
  }).strict()).default([]),
}).strict();

export const WATCH_DEFAULTS = { enabled: true, overdueGraceMinutes: 30, stuckMinutes: 15, unprotectedGraceMinutes: 60, ignore: [] };

export const configSchema = z.object({
  slack: z.object({
    channels: z.array(slackId('CGD', 'channel')).default([]),
    operators: z.object({
      users: z.array(slackId('UW', 'user')).default([]),
      groups: z.array(slackId('S', 'user group')).default([]),
    }).strict().default({ users: [], groups: [] }),
  }).strict().default({ channels: [], operators: { users: [], groups: [] } }),
  alerts: z.object({
    channel: slackId('CG', 'channel').optional(),
    routes: z.array(z.object({
      match: z.record(z.string(), z.string()),
      channel: slackId('CG', 'channel'),
    }).strict()).default([]),
    watchChannels: z.array(slackId('CG', 'channel')).default([]),
    /** How a crash-loop alert posted by another integration is recognised in watched channels. */
    watchPattern: regex.default('(KubePodCrashLooping|PodCrashLooping|CrashLoopBackOff)'),
    escalate: slackId('S', 'user group').optional(),
    /** Extra crash patterns tried before the built-in ones (see README). */
    patterns: z.array(z.unknown()).default([]).superRefine((patterns, ctx) => {
      try {
        parseCrashPatterns(patterns, 'alerts.patterns');
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message.replace(/^invalid crash pattern configuration:\s*/, '').replace(/\s*\n\s*/g, '; ') });
      }
    }),
    /** Alerts waiting to be posted before POST /alertmanager answers 503 (Alertmanager then retries). */
    queueCapacity: z.number().int().min(1).max(1_000_000).default(5000),
    /** How long the 1 h / 4 h silence buttons under a diagnosis stay clickable. */
    silenceButtonHours: z.number().min(0.1).max(168).default(12),
  }).strict().default({ routes: [], watchChannels: [], watchPattern: '(KubePodCrashLooping|PodCrashLooping|CrashLoopBackOff)', patterns: [], queueCapacity: 5000, silenceButtonHours: 12 }),
  windows: z.array(windowSchema).default([{
    name: 'pbs', zone: 'UTC', days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: '02:00', end: '03:30',
    mode: 'annotate', transientPods: DEFAULT_TRANSIENT_PODS, namespaces: DEFAULT_TRANSIENT_NAMESPACES, graceMinutes: 15,
  }]).refine((ws) => new Set(ws.map((w) => w.name)).size === ws.length, 'expected unique window names'),
  backups: z.object({
    pvcLabel: z.string().regex(/^[A-Za-z0-9./_-]+=[A-Za-z0-9._-]*$/, 'expected a label selector "key=value", such as "backup=hourly"').default('backup=hourly'),
  }).strict().default({ pvcLabel: 'backup=hourly' }),
  restic: z.object({
    confirmTimeoutMinutes: z.number().int().min(1).max(60).default(10),
    timeoutSeconds: z.number().int().min(5).max(3600).default(120),
  }).strict().default({ confirmTimeoutMinutes: 10, timeoutSeconds: 120 }),
  /** /backup verify: restic check over a share of the data, and a restore drill of a bounded sample. */
  verify: z.object({
    readDataSubset: z.string().regex(/^(\d{1,2}(\.\d+)?%|100%|\d+\/\d+|\d+[KMGT]?)$/, 'expected restic\'s --read-data-subset, such as "5%", "1/10" or "250M"').default('5%'),
    sampleFiles: z.number().int().min(1).max(10_000).default(200),
    sampleMegabytes: z.number().int().min(1).max(100_000).default(500),
  }).strict().default({ readDataSubset: '5%', sampleFiles: 200, sampleMegabytes: 500 }),
  watch: watchSchema.default(WATCH_DEFAULTS),
}).strict();

export type FileConfig = z.infer<typeof configSchema>;
export type WindowConfig = z.infer<typeof windowSchema>;
export type WatchConfig = z.infer<typeof watchSchema>;

export interface EnvConfig {
  mode: 'socket' | 'http' | 'terminal';
  botToken?: string;
  appToken?: string;
  signingSecret?: string;
  slackApiUrl?: string;
  port: number;
  alertmanagerUrl?: string;
  alertmanagerWebhookToken?: string;
  logLevel: string;
  /** How long a SIGTERM may take (posting the alerts already accepted): below the pod's terminationGracePeriodSeconds. */
  shutdownGraceSeconds: number;
}

export interface Config extends FileConfig {
  env: EnvConfig;
  /** Where the file came from, for the start-up log line. */
  source: string;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function describePath(path: PropertyKey[]): string {
  return path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)), '');
}

export function parseFileConfig(raw: unknown, source: string): FileConfig {
  const result = configSchema.safeParse(raw ?? {});
  if (result.success) return result.data;
  const lines = result.error.issues.slice(0, 5).map((i) => {
    const field = describePath(i.path) || '(top level)';
    const msg = i.code === 'unrecognized_keys' ? `unknown key(s) ${i.keys.map((k) => `"${k}"`).join(', ')}; check the spelling against the README` : i.message;
    return `  ${field}: ${msg}`;
  });
  throw new ConfigError(`Invalid configuration in ${source}:\n${lines.join('\n')}`);
}

export function parseEnv(env: NodeJS.ProcessEnv): EnvConfig {
  const nonEmpty = (k: string) => (env[k] && env[k]!.trim() !== '' ? env[k]!.trim() : undefined);
  const botToken = nonEmpty('SLACK_BOT_TOKEN');
  const appToken = nonEmpty('SLACK_APP_TOKEN');
  const signingSecret = nonEmpty('SLACK_SIGNING_SECRET');
  const requested = nonEmpty('SLACK_MODE');
  if (requested && !['socket', 'http', 'terminal'].includes(requested)) {
    throw new ConfigError(`SLACK_MODE: expected "socket", "http" or "terminal", got "${requested.slice(0, 20)}"`);
  }
  const mode = (requested ?? (appToken ? 'socket' : signingSecret ? 'http' : 'terminal')) as EnvConfig['mode'];
  if (mode !== 'terminal' && !botToken) throw new ConfigError(`SLACK_BOT_TOKEN: required in ${mode} mode (a bot token starting with xoxb-)`);
  if (mode === 'socket' && !appToken) throw new ConfigError('SLACK_APP_TOKEN: required in socket mode (an app-level token starting with xapp-)');
  if (mode === 'http' && !signingSecret) throw new ConfigError('SLACK_SIGNING_SECRET: required in http mode (the app\'s signing secret)');
  if (botToken && !botToken.startsWith('xoxb-')) throw new ConfigError('SLACK_BOT_TOKEN: expected a bot token starting with xoxb-');
  if (appToken && !appToken.startsWith('xapp-')) throw new ConfigError('SLACK_APP_TOKEN: expected an app-level token starting with xapp-');
  const portText = nonEmpty('PORT') ?? '3000';
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`PORT: expected a port number 0-65535, got "${portText.slice(0, 10)}"`);
  const graceText = nonEmpty('SHUTDOWN_GRACE_SECONDS') ?? '25';
  const shutdownGraceSeconds = Number(graceText);
  if (!Number.isFinite(shutdownGraceSeconds) || shutdownGraceSeconds < 1 || shutdownGraceSeconds > 3600) {
    throw new ConfigError(`SHUTDOWN_GRACE_SECONDS: expected seconds between 1 and 3600 (below the pod's terminationGracePeriodSeconds), got "${graceText.slice(0, 10)}"`);
  }
  const slackApiUrl = nonEmpty('SLACK_API_URL');
  const alertmanagerUrl = nonEmpty('ALERTMANAGER_URL');
  for (const [k, v] of [['SLACK_API_URL', slackApiUrl], ['ALERTMANAGER_URL', alertmanagerUrl]] as const) {
    if (v && !/^https?:\/\/[^\s]+$/.test(v)) throw new ConfigError(`${k}: expected an http(s) URL`);
  }
  return {
    mode,
    botToken,
    appToken,
    signingSecret,
    slackApiUrl: slackApiUrl && !slackApiUrl.endsWith('/') ? `${slackApiUrl}/` : slackApiUrl,
    port,
    alertmanagerUrl,
    alertmanagerWebhookToken: nonEmpty('ALERTMANAGER_WEBHOOK_TOKEN'),
    logLevel: nonEmpty('LOG_LEVEL') ?? (mode === 'terminal' ? 'warn' : 'info'),
    shutdownGraceSeconds,
  };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const explicit = env.BACKUP_BOT_CONFIG?.trim();
  const path = explicit || (existsSync(`${cwd}/backup-bot.yaml`) ? `${cwd}/backup-bot.yaml` : undefined);
  let raw: unknown = {};
  if (path) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new ConfigError(`BACKUP_BOT_CONFIG: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'}); point it at a readable YAML file`);
    }
    try {
      raw = parseYaml(text);
    } catch (err) {
      throw new ConfigError(`Invalid YAML in ${path}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  const file = parseFileConfig(raw, path ?? 'the built-in defaults');
  return { ...file, env: parseEnv(env), source: path ?? 'built-in defaults' };
}
