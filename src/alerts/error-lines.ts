// Picks the log lines that explain a failure, so a Slack thread shows the one
// line that matters instead of fifty lines of start-up chatter.

const ERROR_WORDS =
  /\b(?:error|errors?:|err|fatal|panic|panicked|failed|failure|refused|missing|not found|no such file|permission denied|access denied|forbidden|unauthorized|cannot|can't|could not|unable to|invalid|exception|traceback|segmentation fault|timed out|deadline exceeded|oomkilled|out of memory)\b/i;
// Python/Java exception names ("KeyError:", "NullPointerException").
const EXCEPTION_NAME = /\b[A-Z]\w*(?:Error|Exception)\b/;
const LOGFMT_LEVEL = /\b(?:level|lvl|severity)=["']?(\w+)/i;
// klog: "E0226 02:13:41.123456 1 file.go:12] ..."
const KLOG = /^([IWEF])\d{4} \d{2}:\d{2}:\d{2}/;
const ERROR_LEVELS = new Set(["error", "err", "fatal", "panic", "critical", "crit", "alert", "emerg", "emergency", "dpanic"]);
const QUIET_LEVELS = new Set(["info", "debug", "trace", "notice", "warn", "warning"]);
const ANSI = /\x1b\[[0-9;]*[A-Za-z]/g;

export interface ErrorLineOptions {
  /** At most this many lines (default 5). */
  max?: number;
  /** Each line cut to this many characters (default 300). */
  maxChars?: number;
}

/** Removes colour codes and trailing carriage returns some loggers leave in. */
export function cleanLogLine(line: string): string {
  return line.replace(ANSI, "").replace(/\r+$/, "");
}

export function truncate(line: string, maxChars: number): string {
  return line.length <= maxChars ? line : `${line.slice(0, Math.max(0, maxChars - 1))}…`;
}

/**
 * true when a line looks like an error. A structured level (JSON `level`, logfmt
 * `level=`, klog's letter) is trusted over words in the message, so
 * `level=info msg="retry failed"` is not an error.
 */
export function looksLikeError(rawLine: string): boolean {
  const line = cleanLogLine(rawLine).trim();
  if (line === "") return false;
  const level = structuredLevel(line);
  if (level !== undefined) return level;
  return ERROR_WORDS.test(line) || EXCEPTION_NAME.test(line);
}

function structuredLevel(line: string): boolean | undefined {
  if (line.startsWith("{")) {
    const json = parseJson(line);
    if (json) {
      const raw = json["level"] ?? json["lvl"] ?? json["severity"] ?? json["log.level"];
      if (typeof raw === "number") return raw >= 50; // pino / bunyan: 50 error, 60 fatal
      if (typeof raw === "string") return levelVerdict(raw);
    }
  }
  const klog = KLOG.exec(line);
  if (klog) return klog[1] === "E" || klog[1] === "F" ? true : klog[1] === "I" ? false : undefined;
  const logfmt = LOGFMT_LEVEL.exec(line);
  if (logfmt) return levelVerdict(logfmt[1]!);
  return undefined;
}

function levelVerdict(level: string): boolean | undefined {
  const l = level.toLowerCase();
  if (ERROR_LEVELS.has(l)) return true;
  if (l === "warn" || l === "warning") return undefined; // warnings often carry the real cause
  return QUIET_LEVELS.has(l) ? false : undefined;
}

function parseJson(line: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The error-looking lines, in log order: the first one (usually the cause) and the
 * last ones (usually what made the process exit), without duplicates.
 * Empty when no line looks like an error.
 */
export function pickErrorLines(lines: readonly string[], options: ErrorLineOptions = {}): string[] {
  const max = options.max ?? 5;
  const maxChars = options.maxChars ?? 300;
  if (max <= 0) return [];
  const seen = new Set<string>();
  const errors: string[] = [];
  for (const raw of lines) {
    const line = cleanLogLine(raw).trim();
    if (seen.has(line) || !looksLikeError(line)) continue;
    seen.add(line);
    errors.push(line);
  }
  const picked = errors.length <= max ? errors : [errors[0]!, ...errors.slice(errors.length - (max - 1))];
  return picked.map((l) => truncate(l, maxChars));
}

/** The last non-empty lines, for when nothing looks like an error. */
export function lastLines(lines: readonly string[], options: ErrorLineOptions = {}): string[] {
  const max = options.max ?? 5;
  const maxChars = options.maxChars ?? 300;
  const nonEmpty = lines.map((l) => cleanLogLine(l).trim()).filter((l) => l !== "");
  return nonEmpty.slice(Math.max(0, nonEmpty.length - max)).map((l) => truncate(l, maxChars));
}
