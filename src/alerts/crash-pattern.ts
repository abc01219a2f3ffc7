// The shape of a crash pattern, as written in the configuration file.
// Patterns are data so that operators can teach the classifier a new crash
// without a code change; this schema is what keeps their mistakes out.
import { z } from "zod";

/** Placeholders every pattern may use in `cause` and `nextStep`, filled from the evidence. */
export const KNOWN_VARIABLES = [
  "namespace",
  "pod",
  "container",
  "restartCount",
  "image",
  "memoryLimit",
  "nextMemoryTier",
  "memoryPlus50",
  "exitCode",
  "terminationReason",
  "terminationMessage",
  "finishedAt",
  "waitingReason",
  "waitingMessage",
  "ownerKind",
  "ownerName",
  "strategy",
  "replicas",
  "endpoint",
  "lockHolder",
  "lockPid",
  "lockHost",
  "lockUser",
  "lockCreatedAt",
  "lockAge",
  "lockAgeRaw",
  "app",
  "firstError",
  "lastLine",
  "logsCommand",
] as const;

const PLACEHOLDER = /\{\{\s*([A-Za-z_$][\w$]*)\s*(?:\|[^}]*)?\}\}/g;
const NAMED_GROUP = /\(\?<([A-Za-z_$][\w$]*)>/g;

const regexSource = z
  .string()
  .min(1, "must be a non-empty regular expression")
  .superRefine((source, ctx) => {
    try {
      new RegExp(source, "i");
    } catch (err) {
      ctx.addIssue({
        code: "custom",
        message: `not a valid regular expression (${(err as Error).message})`,
      });
    }
  });

const nonEmpty = z.string().trim().min(1, "must not be empty");

function oneOrMany<T extends z.ZodType>(item: T) {
  return z.union([item, z.array(item).min(1, "must list at least one value")]);
}

const matchSchema = z
  .strictObject({
    /** Every regex must match some line of the previous log, waiting message or termination message (case-insensitive). */
    logRegex: oneOrMany(regexSource).optional(),
    /** lastTermination.reason equals one of these (case-insensitive). */
    terminationReason: oneOrMany(nonEmpty).optional(),
    /** The container's waiting reason equals one of these (case-insensitive). */
    waitingReason: oneOrMany(nonEmpty).optional(),
    /** lastTermination.exitCode equals one of these. */
    exitCode: oneOrMany(z.number().int("must be an integer exit code")).optional(),
    podRegex: regexSource.optional(),
    containerRegex: regexSource.optional(),
    /** true: only when the container has a memory limit; false: only when it has none. */
    memoryLimitSet: z.boolean().optional(),
  })
  .refine((m) => Object.values(m).some((v) => v !== undefined), {
    message:
      "needs at least one of logRegex, terminationReason, waitingReason, exitCode, podRegex, containerRegex, memoryLimitSet",
  });

export const crashPatternSchema = z
  .strictObject({
    id: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._-]*$/i, "must be letters, digits, '.', '_' or '-' (e.g. my-app-config-error)"),
    title: nonEmpty,
    match: matchSchema,
    /** Optional regexes whose named groups fill placeholders; unlike logRegex they need not match. */
    extract: z.array(regexSource).optional(),
    cause: nonEmpty,
    nextStep: nonEmpty,
    /** Extra evidence fields to show when known, e.g. ["strategy", "replicas"]. */
    evidenceFields: z.array(z.enum(KNOWN_VARIABLES)).optional(),
    transientInBackupWindow: z.boolean().default(false),
  })
  .superRefine((p, ctx) => {
    // A typo in a placeholder would otherwise show up as "<memorylimit>" in Slack at 3 a.m.
    const known = new Set<string>(KNOWN_VARIABLES);
    for (const source of regexesOf(p)) {
      for (const m of source.matchAll(NAMED_GROUP)) known.add(m[1]!);
    }
    for (const field of ["cause", "nextStep"] as const) {
      for (const m of p[field].matchAll(PLACEHOLDER)) {
        if (!known.has(m[1]!)) {
          ctx.addIssue({
            code: "custom",
            path: [field],
            message: `unknown placeholder {{${m[1]}}}: use one of ${KNOWN_VARIABLES.join(", ")}, or a named group (?<name>…) of this pattern's regexes`,
          });
        }
      }
    }
  });

export const crashPatternsSchema = z.array(crashPatternSchema).superRefine((patterns, ctx) => {
  const seen = new Set<string>();
  patterns.forEach((p, i) => {
    if (seen.has(p.id)) {
      ctx.addIssue({ code: "custom", path: [i, "id"], message: `duplicate pattern id "${p.id}"` });
    }
    seen.add(p.id);
  });
});

/** A validated pattern (defaults applied). */
export type CrashPattern = z.output<typeof crashPatternSchema>;
/** A pattern as written by a person. */
export type CrashPatternInput = z.input<typeof crashPatternSchema>;

function regexesOf(p: { match: { logRegex?: string | string[] | undefined; podRegex?: string | undefined; containerRegex?: string | undefined }; extract?: string[] | undefined }): string[] {
  const log = p.match.logRegex;
  return [
    ...(log === undefined ? [] : Array.isArray(log) ? log : [log]),
    ...(p.extract ?? []),
    ...(p.match.podRegex ? [p.match.podRegex] : []),
    ...(p.match.containerRegex ? [p.match.containerRegex] : []),
  ];
}

/**
 * Validates user-supplied patterns; throws one Error whose message lists every problem
 * with its path, e.g. `alerts.patterns[0].match.logRegex: not a valid regular expression (…)`.
 */
export function parseCrashPatterns(input: unknown, where = "alerts.patterns"): CrashPattern[] {
  const result = crashPatternsSchema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${where}${formatPath(issue.path)}: ${issue.message}`);
  throw new Error(`invalid crash pattern configuration:\n  ${problems.join("\n  ")}`);
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.map((k) => (typeof k === "number" ? `[${k}]` : `.${String(k)}`)).join("");
}

/** User patterns first; a user pattern with a default's id replaces that default. */
export function mergePatterns(user: readonly CrashPattern[], defaults: readonly CrashPattern[]): CrashPattern[] {
  const overridden = new Set(user.map((p) => p.id));
  return [...user, ...defaults.filter((p) => !overridden.has(p.id))];
}
