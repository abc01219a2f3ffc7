// Alertmanager silences over API v2, straight from the bot (no hosted relay).
// One attempt per call with a timeout: the caller is a Slack button or a window
// tick, and both are better served by a clear error now than by a retry loop.
import { parse as parseYaml } from "yaml";
import type { AlertGroup, GettableAlert, Matcher, PostableSilence, Silence, SilenceState } from "./alertmanager-types.ts";

export type { Matcher, Silence, SilenceState } from "./alertmanager-types.ts";

export type AlertmanagerErrorKind = "unreachable" | "timeout" | "http" | "not-found" | "invalid-response" | "invalid-request";

export class AlertmanagerError extends Error {
  readonly kind: AlertmanagerErrorKind;
  /** HTTP status when Alertmanager answered. */
  readonly status: number | undefined;
  constructor(kind: AlertmanagerErrorKind, message: string, status?: number) {
    super(message);
    this.name = "AlertmanagerError";
    this.kind = kind;
    this.status = status;
  }
}

export interface SilencesClientOptions {
  /** Alertmanager's base URL (ALERTMANAGER_URL), e.g. http://alertmanager.monitoring:9093 or with a path prefix. */
  baseUrl: string;
  /** For links in Slack when people reach Alertmanager at another address than the bot does. */
  externalUrl?: string;
  fetch?: typeof fetch;
  /** Per request; default 10 s. */
  timeoutMs?: number;
}

export interface CreateSilence {
  matchers: Matcher[];
  startsAt: Date | string;
  endsAt: Date | string;
  createdBy: string;
  comment: string;
}

export interface ListFilter {
  /** Only silences in state "active". */
  activeOnly?: boolean;
  commentContains?: string;
  createdBy?: string;
}

/** The labels a crash-loop alert is silenced by, most general first. */
const ALERT_SCOPE_LABELS = ["alertname", "namespace", "pod", "container"] as const;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const MESSAGE_MAX_CHARS = 300;

export class SilencesClient {
  readonly #base: URL;
  readonly #shownBase: string;
  readonly #linkBase: string;
  readonly #authorization: string | undefined;
  readonly #fetch: typeof fetch;
  readonly #timeoutMs: number;

  constructor(opts: SilencesClientOptions) {
    let base: URL;
    try {
      base = new URL(opts.baseUrl);
    } catch {
      throw new AlertmanagerError("invalid-request", `ALERTMANAGER_URL is not a URL: set it to e.g. http://alertmanager.monitoring:9093`);
    }
    if (base.protocol !== "http:" && base.protocol !== "https:") {
      throw new AlertmanagerError("invalid-request", `ALERTMANAGER_URL must be http:// or https://, not ${base.protocol}`);
    }
    // fetch refuses URLs with user:password@; send them as Basic auth and keep them out of messages and links.
    this.#authorization =
      base.username || base.password
        ? `Basic ${Buffer.from(`${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}`).toString("base64")}`
        : undefined;
    base.username = "";
    base.password = "";
    base.search = "";
    base.hash = "";
    if (!base.pathname.endsWith("/")) base.pathname += "/";
    this.#base = base;
    this.#shownBase = base.href.replace(/\/$/, "");
    this.#linkBase = opts.externalUrl ? withoutCredentials(opts.externalUrl) : this.#shownBase;
    this.#fetch = opts.fetch ?? fetch;
    this.#timeoutMs = opts.timeoutMs ?? 10_000;
  }

  /** Creates a silence and returns its id. */
  async create(s: CreateSilence): Promise<string> {
    const body = validateSilence(s);
    const res = await this.#request("POST", "api/v2/silences", body);
    const id = isRecord(res) ? res["silenceID"] : undefined;
    if (typeof id !== "string" || id === "") {
      throw new AlertmanagerError("invalid-response", `Alertmanager at ${this.#shownBase} created a silence but returned no silenceID`);
    }
    return id;
  }

  async list(filter: ListFilter = {}): Promise<Silence[]> {
    const res = await this.#request("GET", "api/v2/silences");
    if (!Array.isArray(res)) {
      throw new AlertmanagerError("invalid-response", `Alertmanager at ${this.#shownBase} answered GET /api/v2/silences with something that is not a list`);
    }
    return res
      .filter(isSilence)
      .filter((s) => !filter.activeOnly || s.status.state === "active")
      .filter((s) => filter.commentContains === undefined || s.comment.includes(filter.commentContains))
      .filter((s) => filter.createdBy === undefined || s.createdBy === filter.createdBy);
  }

  async get(id: string): Promise<Silence> {
    const res = await this.#request("GET", `api/v2/silence/${encodeURIComponent(requireId(id))}`);
    if (!isSilence(res)) {
      throw new AlertmanagerError("invalid-response", `Alertmanager at ${this.#shownBase} returned something that is not a silence for ${id}`);
    }
    return res;
  }

  /** Ends a silence now. Expiring one that has already expired is not an error; an unknown id is (kind "not-found"). */
  async expire(id: string): Promise<void> {
    try {
      await this.#request("DELETE", `api/v2/silence/${encodeURIComponent(requireId(id))}`);
    } catch (err) {
      // Alertmanager answers 500 "silence … already expired"; ask what state it is in rather than parse that text.
      if (!(err instanceof AlertmanagerError) || err.kind !== "http") throw err;
      let current: Silence;
      try {
        current = await this.get(id);
      } catch (lookup) {
        if (lookup instanceof AlertmanagerError && lookup.kind === "not-found") {
          throw new AlertmanagerError("not-found", `Alertmanager at ${this.#shownBase} has no silence ${id}: it may have been deleted after its retention period`, 404);
        }
        throw err;
      }
      if (current.status.state !== "expired") throw err;
    }
  }

  /**
   * The active or pending silences whose comment contains `marker` (e.g. "[backup-bot:pbs@2026-11-22T02:00:00Z]"),
   * so that after a restart the bot finds the silence it already made instead of making another.
   */
  async findOwned(marker: string): Promise<Silence[]> {
    if (marker.trim() === "") throw new AlertmanagerError("invalid-request", "findOwned needs a non-empty marker");
    const all = await this.list({ commentContains: marker });
    return all.filter((s) => s.status.state === "active" || s.status.state === "pending");
  }

  /** A link to the silence in Alertmanager's UI, for Slack. */
  /**
   * Alerts Alertmanager holds now (active, silenced, inhibited and unprocessed), optionally only
   * those whose alertname is one of `alertNames`.
   */
  async alerts(opts: { alertNames?: readonly string[] } = {}): Promise<GettableAlert[]> {
    const query = new URLSearchParams();
    for (const state of ["active", "silenced", "inhibited", "unprocessed"]) query.set(state, "true");
    const names = opts.alertNames ?? [];
    if (names.length > 0) query.append("filter", `alertname=~"${names.map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|")}"`);
    const body = await this.#request("GET", `api/v2/alerts?${query}`);
    if (!Array.isArray(body)) {
      throw new AlertmanagerError("invalid-response", `Alertmanager at ${this.#shownBase} answered GET /api/v2/alerts with something that is not a list`);
    }
    return body.filter((a): a is GettableAlert => typeof a === "object" && a !== null && typeof (a as { fingerprint?: unknown }).fingerprint === "string");
  }

  /**
   * Alertmanager's aggregation groups now (GET /api/v2/alerts/groups), every state included: what
   * it would notify about, for reconciling the alert threads with it.
   */
  async alertGroups(): Promise<AlertGroup[]> {
    const body = await this.#request("GET", "api/v2/alerts/groups");
    if (!Array.isArray(body)) {
      throw new AlertmanagerError("invalid-response", `Alertmanager at ${this.#shownBase} answered GET /api/v2/alerts/groups with something that is not a list`);
    }
    return body.filter(isRecord).flatMap((g): AlertGroup[] => {
      const receiver = isRecord(g["receiver"]) && typeof g["receiver"]["name"] === "string" ? g["receiver"]["name"] : undefined;
      if (receiver === undefined || !isRecord(g["labels"]) || !Array.isArray(g["alerts"])) return [];
      const labels = Object.fromEntries(Object.entries(g["labels"]).filter((e): e is [string, string] => typeof e[1] === "string"));
      const alerts = g["alerts"].filter((a): a is GettableAlert => isRecord(a) && typeof a["fingerprint"] === "string" && isRecord(a["labels"]));
      return [{ labels, receiver: { name: receiver }, alerts }];
    });
  }

  /**
   * The receivers in Alertmanager's configuration (GET /api/v2/status) with a webhook whose URL
   * path is `path`: the ones that deliver to this bot.
   */
  async webhookReceivers(path: string): Promise<string[]> {
    const body = await this.#request("GET", "api/v2/status");
    const original = isRecord(body) && isRecord(body["config"]) ? body["config"]["original"] : undefined;
    if (typeof original !== "string") return [];
    let config: unknown;
    try {
      config = parseYaml(original);
    } catch {
      return [];
    }
    const receivers = isRecord(config) && Array.isArray(config["receivers"]) ? config["receivers"] : [];
    return receivers.filter(isRecord).filter((r) => {
      const hooks = Array.isArray(r["webhook_configs"]) ? r["webhook_configs"] : [];
      return hooks.some((h) => {
        if (!isRecord(h) || typeof h["url"] !== "string") return false;
        try {
          return new URL(h["url"]).pathname.replace(/\/+$/, "") === path;
        } catch {
          return false;
        }
      });
    }).flatMap((r) => (typeof r["name"] === "string" ? [r["name"]] : []));
  }

  silenceUrl(id: string): string {
    return `${this.#linkBase}/#/silences/${encodeURIComponent(id)}`;
  }

  matchersForAlert(labels: Record<string, string>): Matcher[] {
    return matchersForAlert(labels);
  }

  async #request(method: "GET" | "POST" | "DELETE", path: string, body?: unknown): Promise<unknown> {
    const url = new URL(path, this.#base);
    const what = `${method} /${path}`;
    const headers: Record<string, string> = { accept: "application/json" };
    if (body !== undefined) headers["content-type"] = "application/json";
    if (this.#authorization) headers["authorization"] = this.#authorization;
    let res: Response;
    try {
      res = await this.#fetch(url, {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (err) {
      throw this.#transportError(err, what);
    }
    let text: string;
    try {
      text = await res.text();
    } catch (err) {
      throw this.#transportError(err, what);
    }
    if (!res.ok) {
      const reason = oneLine(messageOf(text)) || res.statusText || "no message";
      if (res.status === 404) {
        throw new AlertmanagerError("not-found", `Alertmanager at ${this.#shownBase} found nothing for ${what} (404): ${reason}`, 404);
      }
      throw new AlertmanagerError("http", `Alertmanager at ${this.#shownBase} rejected ${what} (${res.status}): ${reason}`, res.status);
    }
    if (text.trim() === "") return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new AlertmanagerError(
        "invalid-response",
        `Alertmanager at ${this.#shownBase} answered ${what} with non-JSON: is ALERTMANAGER_URL pointing at Alertmanager (not its UI proxy or another service)?`,
      );
    }
  }

  #transportError(err: unknown, what: string): AlertmanagerError {
    const e = err as { name?: string; cause?: { code?: string; message?: string }; message?: string };
    if (e?.name === "TimeoutError" || e?.name === "AbortError") {
      return new AlertmanagerError("timeout", `Alertmanager at ${this.#shownBase} did not answer ${what} within ${this.#timeoutMs} ms: check that it is healthy and reachable from the bot`);
    }
    const code = e?.cause?.code ?? e?.cause?.message ?? e?.message ?? "unknown error";
    return new AlertmanagerError("unreachable", `Alertmanager at ${this.#shownBase} is unreachable (${code}): check ALERTMANAGER_URL and that Alertmanager is running`);
  }
}

/** Equality matchers on the alert's alertname, namespace, pod and container (those present). */
export function matchersForAlert(labels: Record<string, string>): Matcher[] {
  const matchers = ALERT_SCOPE_LABELS.filter((name) => (labels[name] ?? "").trim() !== "").map(
    (name): Matcher => ({ name, value: labels[name]!, isRegex: false, isEqual: true }),
  );
  if (matchers.length === 0) {
    // A silence with no matchers would silence nothing (Alertmanager refuses it); one too broad would hide real pages.
    throw new AlertmanagerError("invalid-request", `the alert has none of the labels ${ALERT_SCOPE_LABELS.join(", ")}, so there is nothing to scope a silence to`);
  }
  return matchers;
}

function validateSilence(s: CreateSilence): PostableSilence {
  const problems: string[] = [];
  if (!Array.isArray(s.matchers) || s.matchers.length === 0) problems.push("at least one matcher is needed");
  for (const [i, m] of (s.matchers ?? []).entries()) {
    if (!LABEL_NAME.test(m.name ?? "")) problems.push(`matcher ${i} has an invalid label name "${m.name ?? ""}"`);
    if (typeof m.value !== "string" || m.value.trim() === "") problems.push(`matcher ${i} (${m.name}) has an empty value`);
    if (m.isRegex) {
      try {
        new RegExp(m.value);
      } catch {
        problems.push(`matcher ${i} (${m.name}) is not a valid regular expression`);
      }
    }
  }
  const startsAt = toDate(s.startsAt);
  const endsAt = toDate(s.endsAt);
  if (!startsAt) problems.push("startsAt is not a date");
  if (!endsAt) problems.push("endsAt is not a date");
  if (startsAt && endsAt && endsAt <= startsAt) problems.push("endsAt must be after startsAt");
  if (endsAt && endsAt.getTime() <= Date.now()) problems.push("endsAt is in the past");
  if (!s.createdBy?.trim()) problems.push("createdBy is empty");
  if (!s.comment?.trim()) problems.push("comment is empty");
  if (problems.length > 0 || !startsAt || !endsAt) {
    throw new AlertmanagerError("invalid-request", `cannot create the silence: ${problems.join("; ")}`);
  }
  return {
    matchers: s.matchers.map((m) => ({ name: m.name, value: m.value, isRegex: m.isRegex, isEqual: m.isEqual ?? true })),
    startsAt: startsAt.toISOString(),
    endsAt: endsAt.toISOString(),
    createdBy: s.createdBy,
    comment: s.comment,
  };
}

function requireId(id: string): string {
  if (typeof id !== "string" || id.trim() === "") throw new AlertmanagerError("invalid-request", "a silence id is needed");
  return id.trim();
}

function toDate(v: Date | string): Date | undefined {
  const d = v instanceof Date ? v : new Date(v);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** Alertmanager's errors are a JSON string, an object with `message`, or plain text. */
function messageOf(text: string): string {
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v === "string") return v;
    if (isRecord(v) && typeof v["message"] === "string") return v["message"];
  } catch {
    // plain text
  }
  return text;
}

function oneLine(s: string): string {
  const flat = s.replace(/\s+/g, " ").trim();
  return flat.length <= MESSAGE_MAX_CHARS ? flat : `${flat.slice(0, MESSAGE_MAX_CHARS - 1)}…`;
}

function withoutCredentials(raw: string): string {
  try {
    const u = new URL(raw);
    u.username = "";
    u.password = "";
    return u.href.replace(/\/$/, "");
  } catch {
    return raw.replace(/\/$/, "");
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function isSilence(v: unknown): v is Silence {
  if (!isRecord(v)) return false;
  const status = v["status"];
  return (
    typeof v["id"] === "string" &&
    isRecord(status) &&
    typeof status["state"] === "string" &&
    Array.isArray(v["matchers"]) &&
    typeof v["comment"] === "string" &&
    typeof v["createdBy"] === "string"
  );
}
