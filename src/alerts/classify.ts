// Turns what is known about a crash-looping container into a classification a
// person can act on: what happened, why, the next step, and the evidence.
// Pure: no I/O, so the webhook, the channel watcher and the tests share it.
import type { CrashPattern } from "./crash-pattern.ts";
import { cleanLogLine, lastLines, pickErrorLines, truncate } from "./error-lines.ts";
import { memoryPlus50, nextMemoryTier } from "./memory-tier.ts";
import { DEFAULT_PATTERNS } from "./patterns.ts";
import { parseMoverPodName } from "../volsync/mover-pods.ts";
import { parseGoDuration } from "../restic/go-duration.ts";
import { duration } from "../text.ts";

export { crashPatternSchema, crashPatternsSchema, mergePatterns, parseCrashPatterns, KNOWN_VARIABLES } from "./crash-pattern.ts";
export type { CrashPattern, CrashPatternInput } from "./crash-pattern.ts";
export { DEFAULT_PATTERNS } from "./patterns.ts";

export interface CrashEvidence {
  pod: string;
  namespace: string;
  container?: string;
  restartCount?: number;
  /** CrashLoopBackOff, ImagePullBackOff, ErrImagePull, ContainerCreating… */
  waitingReason?: string;
  waitingMessage?: string;
  lastTermination?: { reason?: string; exitCode?: number; message?: string; finishedAt?: string };
  image?: string;
  /** The container's resources.limits.memory, e.g. "256Mi". */
  memoryLimit?: string;
  /** Last lines of the previous container's log. */
  previousLog?: string[];
  ownerKind?: string;
  ownerName?: string;
  strategy?: string;
  replicas?: number;
}

export interface Classification {
  /** The pattern id, or "unknown". */
  id: string;
  title: string;
  cause: string;
  nextStep: string;
  /** The log lines or fields that matched, each at most 300 characters. */
  evidence: string[];
  transientInBackupWindow: boolean;
  /** The values the templates were filled from (endpoint, lockHolder, app, nextMemoryTier…), for renderers. */
  details: Record<string, string>;
}

const EVIDENCE_MAX_CHARS = 300;
const EVIDENCE_MAX_LINES = 8;
const ERROR_LINES_MAX = 5;
// Bounds the work a user's regex can do on a pathological log: the crash is in the tail.
const LOG_LINES_SCANNED = 200;
const LOG_LINE_CHARS_SCANNED = 16 * 1024;

interface Line {
  text: string;
  /** Where it came from, shown when it is not the log itself. */
  source: "log" | "waitingMessage" | "terminationMessage";
}

interface Compiled {
  logRegex: RegExp[];
  extract: RegExp[];
  podRegex?: RegExp;
  containerRegex?: RegExp;
}

const compiledCache = new WeakMap<CrashPattern, Compiled | null>();

export function classify(e: CrashEvidence, patterns: readonly CrashPattern[] = DEFAULT_PATTERNS): Classification {
  const lines = corpus(e);
  const base = baseVariables(e, lines);
  for (const pattern of patterns) {
    const compiled = compile(pattern);
    if (!compiled) continue;
    const hit = matchPattern(pattern, compiled, e, lines);
    if (hit) return render(pattern, compiled, e, lines, base, hit);
  }
  return unknown(e, lines, base);
}

interface Hit {
  groups: Record<string, string>;
  evidence: string[];
}

function matchPattern(p: CrashPattern, c: Compiled, e: CrashEvidence, lines: Line[]): Hit | undefined {
  const m = p.match;
  const evidence: string[] = [];
  const term = e.lastTermination;
  if (m.terminationReason !== undefined) {
    if (!oneOf(m.terminationReason, term?.reason)) return undefined;
    evidence.push(`last termination reason: ${term?.reason}`);
  }
  if (m.exitCode !== undefined) {
    const codes = Array.isArray(m.exitCode) ? m.exitCode : [m.exitCode];
    if (term?.exitCode === undefined || !codes.includes(term.exitCode)) return undefined;
  }
  if (m.waitingReason !== undefined) {
    if (!oneOf(m.waitingReason, e.waitingReason)) return undefined;
    evidence.push(`waiting reason: ${e.waitingReason}`);
    if (e.waitingMessage) evidence.push(`waiting message: ${e.waitingMessage}`);
  }
  if (m.memoryLimitSet !== undefined && m.memoryLimitSet !== hasText(e.memoryLimit)) return undefined;
  if (c.podRegex && !c.podRegex.test(e.pod)) return undefined;
  if (c.containerRegex && !c.containerRegex.test(e.container ?? "")) return undefined;
  if (term?.exitCode !== undefined && (m.exitCode !== undefined || m.terminationReason !== undefined)) {
    evidence.push(`exit code: ${term.exitCode}`);
  }

  const groups: Record<string, string> = {};
  const matchedLines: { index: number; text: string }[] = [];
  for (const re of c.logRegex) {
    const found = lastMatch(re, lines);
    if (!found) return undefined;
    Object.assign(groups, definedGroups(found.match));
    matchedLines.push({ index: found.index, text: excerpt(found.line, found.match) });
  }
  for (const re of c.extract) {
    const found = lastMatch(re, lines);
    if (!found) continue;
    for (const [k, v] of Object.entries(definedGroups(found.match))) groups[k] ??= v;
    matchedLines.push({ index: found.index, text: excerpt(found.line, found.match) });
  }
  // Log order reads as the story of the crash, whatever order the regexes were written in.
  matchedLines.sort((a, b) => a.index - b.index);
  evidence.push(...matchedLines.map((l) => l.text));
  return { groups, evidence };
}

function render(p: CrashPattern, c: Compiled, e: CrashEvidence, lines: Line[], base: Record<string, string>, hit: Hit): Classification {
  const vars = { ...base };
  // Facts from the pod spec beat what a regex pulled out of a log line.
  for (const [k, v] of Object.entries(hit.groups)) vars[k] ??= v;
  derive(vars, e);

  const evidence = [...hit.evidence];
  // A pattern that matched on reasons or exit codes alone has not shown a log line yet:
  // the lines that explain the crash are the error-looking ones.
  if (c.logRegex.length === 0) evidence.push(...explainingLines(lines));
  for (const field of p.evidenceFields ?? []) {
    const value = vars[field];
    if (value !== undefined) evidence.push(`${labelOf(field)}: ${value}`);
  }

  return {
    id: p.id,
    title: p.title,
    cause: fill(p.cause, vars),
    nextStep: fill(p.nextStep, vars),
    evidence: bound(evidence),
    transientInBackupWindow: p.transientInBackupWindow,
    details: vars,
  };
}

function unknown(e: CrashEvidence, lines: Line[], base: Record<string, string>): Classification {
  const vars = { ...base };
  derive(vars, e);
  const state = [
    e.waitingReason && `waiting reason: ${e.waitingReason}`,
    e.lastTermination?.reason && `last termination reason: ${e.lastTermination.reason}`,
    e.lastTermination?.exitCode !== undefined && `exit code: ${e.lastTermination.exitCode}`,
  ].filter((s): s is string => typeof s === "string" && s !== "");
  const logTail = lastLines(lines.filter((l) => l.source === "log").map((l) => l.text), { max: ERROR_LINES_MAX, maxChars: EVIDENCE_MAX_CHARS });
  return {
    id: "unknown",
    title: "Unrecognised crash",
    cause:
      logTail.length > 0
        ? "No known crash pattern matched; the last lines of the previous container's log are below."
        : "No known crash pattern matched and there is no log from the previous container to go on.",
    nextStep: fill(
      "Read the previous container's log: `{{logsCommand}}`, and the pod's events: `kubectl -n {{namespace}} describe pod {{pod}}`. " +
        "If this crash recurs, add a pattern for it under alerts.patterns in the configuration.",
      vars,
    ),
    evidence: bound([...state, ...logTail]),
    transientInBackupWindow: false,
    details: vars,
  };
}

function explainingLines(lines: Line[]): string[] {
  const log = lines.filter((l) => l.source === "log").map((l) => l.text);
  const opts = { max: ERROR_LINES_MAX, maxChars: EVIDENCE_MAX_CHARS };
  const errors = pickErrorLines(log, opts);
  return errors.length > 0 ? errors : lastLines(log, opts);
}

// ---- variables -------------------------------------------------------------

function baseVariables(e: CrashEvidence, lines: Line[]): Record<string, string> {
  const vars: Record<string, string> = {};
  const set = (k: string, v: string | number | undefined) => {
    if (v !== undefined && String(v).trim() !== "") vars[k] = String(v).trim();
  };
  const t = e.lastTermination;
  set("namespace", e.namespace);
  set("pod", e.pod);
  set("container", e.container);
  set("restartCount", e.restartCount);
  set("image", e.image);
  set("memoryLimit", e.memoryLimit);
  if (e.memoryLimit) {
    set("nextMemoryTier", nextMemoryTier(e.memoryLimit));
    set("memoryPlus50", memoryPlus50(e.memoryLimit));
  }
  set("exitCode", t?.exitCode);
  set("terminationReason", t?.reason);
  set("terminationMessage", t?.message && truncate(firstLine(t.message), EVIDENCE_MAX_CHARS));
  set("finishedAt", t?.finishedAt);
  set("waitingReason", e.waitingReason);
  set("waitingMessage", e.waitingMessage && truncate(firstLine(e.waitingMessage), EVIDENCE_MAX_CHARS));
  set("ownerKind", e.ownerKind);
  set("ownerName", e.ownerName);
  set("strategy", e.strategy);
  set("replicas", e.replicas);
  const log = lines.filter((l) => l.source === "log").map((l) => l.text);
  set("firstError", pickErrorLines(log, { max: 1, maxChars: EVIDENCE_MAX_CHARS })[0]);
  set("lastLine", lastLines(log, { max: 1, maxChars: EVIDENCE_MAX_CHARS })[0]);
  const container = e.container ? ` -c ${e.container}` : "";
  vars["logsCommand"] = `kubectl -n ${e.namespace} logs ${e.pod}${container} --previous --tail=50`;
  return vars;
}

/** Values worked out from others: the Deployment behind a pod, the restic lock holder, the app. */
function derive(vars: Record<string, string>, e: CrashEvidence): void {
  if (!vars["ownerName"]) {
    // A Deployment's pod is <deployment>-<replicaset hash>-<5 chars>.
    const m = /^(.+)-[a-z0-9]{6,10}-[a-z0-9]{5}$/.exec(e.pod);
    if (m) vars["ownerName"] = m[1]!;
  }
  if (vars["lockAgeRaw"] && !vars["lockAge"]) {
    const human = humanDuration(vars["lockAgeRaw"]);
    if (human) vars["lockAge"] = human;
  }
  if (vars["lockPid"] && vars["lockHost"] && !vars["lockHolder"]) {
    let holder = `PID ${vars["lockPid"]} on ${vars["lockHost"]}`;
    if (vars["lockUser"]) holder += ` (user ${vars["lockUser"]})`;
    if (vars["lockCreatedAt"]) holder += `, created ${vars["lockCreatedAt"]}`;
    if (vars["lockAge"]) holder += vars["lockCreatedAt"] ? ` (${vars["lockAge"]} ago)` : `, ${vars["lockAge"]} old`;
    vars["lockHolder"] = holder;
  }
  if (!vars["app"]) {
    // A mover pod's name says whose mover it is.
    for (const name of [vars["lockHost"], e.pod]) {
      const m = name ? parseMoverPodName(name, 'required') : undefined;
      if (m) {
        vars["app"] = m.owner;
        break;
      }
    }
  }
}

/** "189h37m14.500688624s" → "7d 21h". */
export function humanDuration(goDuration: string): string | undefined {
  const ms = parseGoDuration(goDuration);
  return ms === undefined || ms < 0 ? undefined : duration(ms);
}

/** `{{name}}` → value; `{{name|fallback}}` → fallback when unknown; unknown without fallback → `<name>`. */
export function fill(template: string, vars: Record<string, string>): string {
  return template.replace(/\{\{\s*([A-Za-z_$][\w$]*)\s*(?:\|([^}]*))?\}\}/g, (_all, name: string, fallback: string | undefined) => {
    const value = vars[name];
    if (value !== undefined && value !== "") return value;
    return fallback !== undefined ? fallback : `<${name}>`;
  });
}

// ---- helpers ---------------------------------------------------------------

function corpus(e: CrashEvidence): Line[] {
  const lines: Line[] = [];
  const add = (text: string | undefined, source: Line["source"]) => {
    if (!text) return;
    for (const raw of text.split("\n")) {
      const clean = cleanLogLine(raw);
      if (clean.trim() !== "") lines.push({ text: clean.slice(0, LOG_LINE_CHARS_SCANNED), source });
    }
  };
  const log = e.previousLog ?? [];
  for (const l of log.slice(Math.max(0, log.length - LOG_LINES_SCANNED))) add(l, "log");
  add(e.waitingMessage, "waitingMessage");
  add(e.lastTermination?.message, "terminationMessage");
  return lines;
}

function compile(p: CrashPattern): Compiled | null {
  let c = compiledCache.get(p);
  if (c !== undefined) return c;
  try {
    const log = p.match.logRegex;
    c = {
      logRegex: (log === undefined ? [] : Array.isArray(log) ? log : [log]).map((s) => new RegExp(s, "i")),
      extract: (p.extract ?? []).map((s) => new RegExp(s, "i")),
      ...(p.match.podRegex ? { podRegex: new RegExp(p.match.podRegex, "i") } : {}),
      ...(p.match.containerRegex ? { containerRegex: new RegExp(p.match.containerRegex, "i") } : {}),
    };
  } catch {
    // crashPatternSchema rejects bad regexes at start-up; one that slipped past must
    // cost this pattern, not the whole annotation.
    c = null;
  }
  compiledCache.set(p, c);
  return c;
}

/** The match nearest the end: what happened just before the crash. */
function lastMatch(re: RegExp, lines: Line[]): { line: Line; match: RegExpExecArray; index: number } | undefined {
  for (let i = lines.length - 1; i >= 0; i--) {
    const match = re.exec(lines[i]!.text);
    if (match) return { line: lines[i]!, match, index: i };
  }
  return undefined;
}

function definedGroups(m: RegExpExecArray): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.groups ?? {})) if (v !== undefined && v.trim() !== "") out[k] = v.trim();
  return out;
}

/** The line, or the part of a long line around the match. */
function excerpt(line: Line, m: RegExpExecArray): string {
  const prefix = line.source === "log" ? "" : line.source === "waitingMessage" ? "waiting message: " : "termination message: ";
  const text = line.text.trim();
  const room = EVIDENCE_MAX_CHARS - prefix.length;
  if (text.length <= room) return prefix + text;
  const offset = line.text.indexOf(text);
  // Some context before the match, so "…by PID 32 on host…" still reads as a sentence.
  const start = Math.max(0, m.index - offset - 60);
  const slice = text.slice(start, start + room - 2);
  return prefix + (start > 0 ? "…" : "") + slice + (start + slice.length < text.length ? "…" : "");
}

function bound(evidence: string[]): string[] {
  const unique = [...new Set(evidence.map((l) => truncate(l, EVIDENCE_MAX_CHARS)))];
  return unique.slice(0, EVIDENCE_MAX_LINES);
}

function oneOf(expected: string | string[], actual: string | undefined): boolean {
  if (!actual) return false;
  const list = Array.isArray(expected) ? expected : [expected];
  return list.some((x) => x.toLowerCase() === actual.toLowerCase());
}

function hasText(v: string | undefined): boolean {
  return v !== undefined && v.trim() !== "";
}

function firstLine(s: string): string {
  return s.split("\n").find((l) => l.trim() !== "")?.trim() ?? "";
}

function labelOf(field: string): string {
  const labels: Record<string, string> = {
    memoryLimit: "memory limit",
    restartCount: "restarts",
    strategy: "deployment strategy",
    replicas: "replicas",
    image: "image",
  };
  return labels[field] ?? field;
}
