// Scrubs credential values out of text before it reaches an error, a log line or Slack.
// restic echoes parts of its configuration back in error messages (a repository URL with a
// password in it, a bucket path, an access key in a backend error), so every value that came
// from the repository Secret is treated as secret unless its key is known to hold plain settings.

// Keys whose values are settings, not credentials. Redacting a value like "2" or "auto" everywhere
// would mangle PIDs and times in restic's messages while protecting nothing.
const PLAIN_SETTING_KEYS: ReadonlySet<string> = new Set([
  'RESTIC_COMPRESSION',
  'RESTIC_PACK_SIZE',
  'RESTIC_READ_CONCURRENCY',
  'AWS_DEFAULT_REGION',
  'RESTIC_AWS_ASSUME_ROLE_REGION',
  'OS_REGION_NAME',
  'AZURE_ENDPOINT_SUFFIX',
]);

export function isSecretKey(key: string): boolean {
  return !PLAIN_SETTING_KEYS.has(key);
}

/** The spellings under which a value can show up in a program's output. */
function spellings(value: string): string[] {
  const forms = new Set<string>([value]);
  // URLs carry credentials percent-encoded; Go's %q and JSON escape quotes and control characters.
  forms.add(encodeURIComponent(value));
  forms.add(JSON.stringify(value).slice(1, -1));
  // A multi-line value (a GCS service-account JSON, a PEM key) can be echoed one line at a time.
  for (const line of value.split(/\r?\n/)) {
    const trimmed = line.trim();
    if (trimmed.length >= 8) forms.add(trimmed);
  }
  return [...forms].filter((form) => form.length > 0);
}

/**
 * Replaces every secret value in `text` with `[redacted KEY]` (or `[redacted]` for a bare list).
 * `secrets` is either a Secret's key/value map (plain-setting keys are left alone) or a list of
 * values that are all secret. Longer values are replaced first, so a value that contains another
 * one is not left half-visible.
 */
export function redact(
  text: string,
  secrets: Readonly<Record<string, string>> | readonly string[] | ReadonlySet<string>,
): string {
  const pairs: Array<[form: string, label: string]> = [];
  const add = (value: string, label: string): void => {
    for (const form of spellings(value)) pairs.push([form, label]);
  };
  if (Array.isArray(secrets) || secrets instanceof Set) {
    for (const value of secrets as Iterable<string>) add(value, '[redacted]');
  } else {
    for (const [key, value] of Object.entries(secrets)) {
      if (isSecretKey(key)) add(value, `[redacted ${key}]`);
    }
  }
  if (pairs.length === 0) return text;
  // One pass with the longest spelling first at each position: a replacement is never scanned
  // again, so a short secret cannot match inside a label or inside a longer secret's remains.
  pairs.sort((a, b) => b[0].length - a[0].length);
  const labels = new Map<string, string>();
  for (const [form, label] of pairs) if (!labels.has(form)) labels.set(form, label);
  const alternatives = [...labels.keys()].map((form) =>
    // A value of a few characters ("pw", "x") is replaced only where it stands alone: inside a word
    // it reveals nothing, and replacing every "u" would make restic's message unreadable.
    form.length < SHORT_VALUE ? `(?<![A-Za-z0-9])${escapeRegExp(form)}(?![A-Za-z0-9])` : escapeRegExp(form),
  );
  const pattern = new RegExp(alternatives.join('|'), 'g');
  return text.replace(pattern, (match) => labels.get(match) ?? '[redacted]');
}

const SHORT_VALUE = 4;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
