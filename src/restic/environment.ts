// The environment a restic child process gets: the repository Secret's keys that VolSync's restic
// mover passes through (internal/controller/mover/restic/mover.go: the mandatory pair, the
// optional list `resticOptionalEnvVars`, every `RCLONE_*` key, GOOGLE_APPLICATION_CREDENTIALS as a
// file) plus what restic itself needs to run. Nothing else of the bot's own environment — above all
// no Slack tokens — reaches restic, and keys VolSync would ignore (RESTIC_PASSWORD_COMMAND, which
// would run a program of the Secret author's choosing) are ignored here too.

import { registerSecret } from '../log.ts';

export const REQUIRED_SECRET_KEYS = ['RESTIC_REPOSITORY', 'RESTIC_PASSWORD'] as const;

export const OPTIONAL_SECRET_KEYS: readonly string[] = [
  'RESTIC_COMPRESSION',
  'RESTIC_PACK_SIZE',
  'RESTIC_READ_CONCURRENCY',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_DEFAULT_REGION',
  'AWS_PROFILE',
  'RESTIC_AWS_ASSUME_ROLE_ARN',
  'RESTIC_AWS_ASSUME_ROLE_SESSION_NAME',
  'RESTIC_AWS_ASSUME_ROLE_EXTERNAL_ID',
  'RESTIC_AWS_ASSUME_ROLE_POLICY',
  'RESTIC_AWS_ASSUME_ROLE_REGION',
  'RESTIC_AWS_ASSUME_ROLE_STS_ENDPOINT',
  'ST_AUTH',
  'ST_USER',
  'ST_KEY',
  'OS_AUTH_URL',
  'OS_REGION_NAME',
  'OS_USERNAME',
  'OS_USER_ID',
  'OS_PASSWORD',
  'OS_TENANT_ID',
  'OS_TENANT_NAME',
  'OS_USER_DOMAIN_NAME',
  'OS_USER_DOMAIN_ID',
  'OS_PROJECT_NAME',
  'OS_PROJECT_DOMAIN_NAME',
  'OS_PROJECT_DOMAIN_ID',
  'OS_TRUST_ID',
  'OS_APPLICATION_CREDENTIAL_ID',
  'OS_APPLICATION_CREDENTIAL_NAME',
  'OS_APPLICATION_CREDENTIAL_SECRET',
  'OS_STORAGE_URL',
  'OS_AUTH_TOKEN',
  'B2_ACCOUNT_ID',
  'B2_ACCOUNT_KEY',
  'AZURE_ACCOUNT_NAME',
  'AZURE_ACCOUNT_KEY',
  'AZURE_ACCOUNT_SAS',
  'AZURE_ENDPOINT_SUFFIX',
  'AZURE_TENANT_ID',
  'AZURE_CLIENT_ID',
  'AZURE_FEDERATED_TOKEN_FILE',
  'GOOGLE_PROJECT_ID',
  'RESTIC_REST_USERNAME',
  'RESTIC_REST_PASSWORD',
];

/** The Secret holds the service-account JSON itself; restic wants a path to a file with it. */
export const GOOGLE_CREDENTIALS_KEY = 'GOOGLE_APPLICATION_CREDENTIALS';

// VolSync hands the operator's cluster-wide proxy settings to its movers; the bot does the same
// with its own, so restic reaches the backend by the same path a mover would.
const PROXY_KEYS = ['HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy'];

const MINIMAL_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Whether VolSync's mover would pass this Secret key to restic. */
export function isPassedThrough(key: string): boolean {
  return (
    (REQUIRED_SECRET_KEYS as readonly string[]).includes(key) ||
    OPTIONAL_SECRET_KEYS.includes(key) ||
    key.startsWith('RCLONE_') ||
    key === GOOGLE_CREDENTIALS_KEY
  );
}

/** Secret keys that restic will not see (worth a line in `/backup doctor`: probably a typo). */
export function ignoredSecretKeys(secret: Readonly<Record<string, string>>): string[] {
  return Object.keys(secret).filter((key) => !isPassedThrough(key)).sort();
}

export interface ResticEnvironmentOptions {
  /** RESTIC_REPOSITORY; wins over the Secret's own key. */
  repository: string;
  /** A private, per-run directory: restic's HOME and the parent of its cache. */
  privateDir: string;
  /** Where GOOGLE_APPLICATION_CREDENTIALS' content was written, when the Secret has that key. */
  googleCredentialsFile?: string;
  /** The bot's own environment, only read for proxy settings. */
  parentEnv?: NodeJS.ProcessEnv;
}

export function buildResticEnvironment(
  secret: Readonly<Record<string, string>>,
  options: ResticEnvironmentOptions,
): Record<string, string> {
  const env: Record<string, string> = {
    PATH: MINIMAL_PATH,
    HOME: options.privateDir,
    RESTIC_CACHE_DIR: `${options.privateDir}/cache`,
  };
  const parentEnv = options.parentEnv ?? process.env;
  for (const key of PROXY_KEYS) {
    const value = parentEnv[key];
    if (value !== undefined && value !== '') env[key] = value;
  }
  for (const [key, value] of Object.entries(secret)) {
    if (key === GOOGLE_CREDENTIALS_KEY) continue;
    if (isPassedThrough(key)) env[key] = value;
  }
  env['RESTIC_REPOSITORY'] = options.repository;
  if (options.googleCredentialsFile !== undefined) env[GOOGLE_CREDENTIALS_KEY] = options.googleCredentialsFile;
  return env;
}

// The keys of restic's documented environment (restic.readthedocs.io, "Scripting: Environment
// Variables") and of rclone's whose values are credentials. Everything else in a repository Secret
// is a setting or a name (a region, a user name, `true`), which the log scrubber must not learn:
// scrubbing is global, so a value like `true` or a Slack user ID would rewrite every later line.
const CREDENTIAL_KEYS: ReadonlySet<string> = new Set([
  'RESTIC_PASSWORD',
  'RESTIC_REST_PASSWORD',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'ST_KEY',
  'OS_PASSWORD',
  'OS_APPLICATION_CREDENTIAL_SECRET',
  'OS_AUTH_TOKEN',
  'B2_ACCOUNT_KEY',
  'AZURE_ACCOUNT_KEY',
  'AZURE_ACCOUNT_SAS',
  GOOGLE_CREDENTIALS_KEY,
]);

/** Whether a repository Secret key holds a credential (as opposed to a setting or a name). */
export function isCredentialKey(key: string): boolean {
  // rclone's obscured passwords and tokens: RCLONE_CONFIG_<REMOTE>_PASS, _PASSWORD, _TOKEN, _KEY, _SECRET….
  if (key.startsWith('RCLONE_')) return /_(PASS|PASSWORD|PASSWORD2|TOKEN|KEY|SECRET|SECRET_ACCESS_KEY|ACCOUNT_KEY|CLIENT_SECRET|SAS_URL)$/.test(key);
  return CREDENTIAL_KEYS.has(key) || key.startsWith('GOOGLE_') && /(KEY|SECRET|TOKEN|CREDENTIALS)/.test(key);
}

/** The password inside a repository URL (`rest:https://user:pw@host/`), which restic also echoes. */
function urlPassword(repository: string): string | undefined {
  const match = /^[a-z0-9]+:[a-z][a-z0-9+.-]*:\/\/[^/@:]*:([^/@]+)@/i.exec(repository);
  if (!match) return undefined;
  try {
    return decodeURIComponent(match[1]!);
  } catch {
    return match[1];
  }
}

/** The private key of a GCS service-account JSON, which an error may echo without the rest. */
function serviceAccountKeys(json: string): string[] {
  try {
    const parsed = JSON.parse(json) as { private_key?: unknown };
    if (typeof parsed.private_key !== 'string') return [];
    return [parsed.private_key, ...parsed.private_key.split(/\r?\n/).filter((line) => !line.startsWith('-----'))];
  } catch {
    return [];
  }
}

/**
 * Hands a repository Secret's credentials (only those: see CREDENTIAL_KEYS) to the log scrubber,
 * so a credential that restic or an error echoes is never written to a log line.
 */
export function registerRepositoryCredentials(secret: Readonly<Record<string, string>>): void {
  for (const [key, value] of Object.entries(secret)) {
    if (!isCredentialKey(key)) continue;
    registerSecret(value);
    if (key === GOOGLE_CREDENTIALS_KEY) for (const part of serviceAccountKeys(value)) registerSecret(part);
  }
  const repository = secret['RESTIC_REPOSITORY'];
  if (repository !== undefined) registerSecret(urlPassword(repository));
}
