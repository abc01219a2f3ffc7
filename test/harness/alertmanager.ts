// Starts a real Alertmanager (Debian's prometheus-alertmanager) for tests: its
// own config and storage in a temp dir, loopback only, a free port, no gossip
// cluster, and short grouping timers so a webhook arrives within seconds.
import { freePort } from "./kube/free-port.ts";
import { isExecutable } from '../../src/restic/binary.ts';
import { spawn, type ChildProcess } from "node:child_process";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { stringify } from "yaml";
import type { GettableAlert, PostableAlert } from "../../src/alerts/alertmanager-types.ts";
import { SilencesClient } from "../../src/alerts/silences.ts";

export interface AlertmanagerOptions {
  /** Where the webhook receiver POSTs; without it alerts go to a receiver that sends nothing. */
  webhookUrl?: string;
  /** Sent as `Authorization: Bearer <token>` by the webhook receiver. */
  webhookToken?: string;
  /** Alertmanager durations ("1s", "500ms"). */
  groupWait?: string;
  groupInterval?: string;
  repeatInterval?: string;
  groupBy?: string[];
  sendResolved?: boolean;
}

export interface AlertFilter {
  /** Equality matchers, e.g. { alertname: "KubePodCrashLooping" }. */
  labels?: Record<string, string>;
  active?: boolean;
  silenced?: boolean;
  inhibited?: boolean;
  unprocessed?: boolean;
}

export interface RunningAlertmanager {
  url: string;
  /** Stops the process and removes its storage. */
  stop(): Promise<void>;
  /** Stops the process (SIGTERM, so it writes its silences to disk) and keeps its port and storage, for restart(). */
  halt(): Promise<void>;
  /** Starts it again on the same port with the same storage (silences kept), so every configured URL still holds. */
  restart(): Promise<void>;
  postAlerts(alerts: PostableAlert[]): Promise<void>;
  getAlerts(filter?: AlertFilter): Promise<GettableAlert[]>;
  silences(): SilencesClient;
}

const CANDIDATES = ["prometheus-alertmanager", "alertmanager"];
const READY_TIMEOUT_MS = 20_000;
const running = new Set<ChildProcess>();

/** The Alertmanager binary: $ALERTMANAGER_BIN, else prometheus-alertmanager or alertmanager on the PATH. */
export function findAlertmanagerBinary(): string | undefined {
  const explicit = process.env["ALERTMANAGER_BIN"];
  if (explicit) return isExecutable(explicit) ? explicit : undefined;
  const dirs = [...(process.env["PATH"] ?? "").split(delimiter), "/usr/bin", "/usr/local/bin"];
  for (const name of CANDIDATES) {
    for (const dir of dirs) {
      if (dir && isExecutable(join(dir, name))) return join(dir, name);
    }
  }
  return undefined;
}

/**
 * `false` when Alertmanager can be used, else the reason to skip. In CI a missing
 * binary is not a reason to skip: the test must run and fail.
 */
export function alertmanagerSkipReason(): string | false {
  if (findAlertmanagerBinary() || process.env["CI"]) return false;
  return "prometheus-alertmanager is not installed (run test/harness/setup/alertmanager.sh)";
}

export async function startAlertmanager(opts: AlertmanagerOptions = {}): Promise<RunningAlertmanager> {
  const bin = findAlertmanagerBinary();
  if (!bin) throw new Error("prometheus-alertmanager is not installed: run test/harness/setup/alertmanager.sh");
  const dir = await mkdtemp(join(tmpdir(), "backup-bot-alertmanager-"));
  const configFile = join(dir, "alertmanager.yml");
  await writeFile(configFile, stringify(configFor(opts)), { mode: 0o600 });
  await chmod(configFile, 0o600); // it holds the webhook token

  // Another process can take the free port between our probe and Alertmanager's bind: try a few ports.
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    try {
      const child = await launch(bin, dir, configFile, port);
      return handle(child, dir, port, () => launch(bin, dir, configFile, port));
    } catch (err) {
      lastError = err;
      if (!/address already in use/i.test(String((err as Error).message))) break;
    }
  }
  await rm(dir, { recursive: true, force: true });
  throw lastError;
}

function configFor(opts: AlertmanagerOptions): unknown {
  const receiver = opts.webhookUrl
    ? {
        name: "webhook",
        webhook_configs: [
          {
            url: opts.webhookUrl,
            send_resolved: opts.sendResolved ?? true,
            ...(opts.webhookToken
              ? { http_config: { authorization: { type: "Bearer", credentials: opts.webhookToken } } }
              : {}),
          },
        ],
      }
    : { name: "nowhere" };
  return {
    route: {
      receiver: receiver.name,
      group_by: opts.groupBy ?? ["alertname", "namespace"],
      group_wait: opts.groupWait ?? "1s",
      group_interval: opts.groupInterval ?? "1s",
      repeat_interval: opts.repeatInterval ?? "1h",
    },
    receivers: [receiver],
  };
}

async function launch(bin: string, dir: string, configFile: string, port: number): Promise<ChildProcess> {
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    bin,
    [
      `--config.file=${configFile}`,
      `--storage.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--web.external-url=${url}`,
      // Empty disables the gossip cluster, which would otherwise bind 0.0.0.0:9094.
      "--cluster.listen-address=",
      "--log.level=info",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  running.add(child);
  installExitHooks();
  const logTail: string[] = [];
  const collect = (chunk: Buffer) => {
    logTail.push(...chunk.toString("utf8").split("\n").filter(Boolean));
    logTail.splice(0, Math.max(0, logTail.length - 20));
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  child.once("exit", () => running.delete(child));
  // A test that forgets stop() must not hang the runner; the exit hook still kills the process.
  child.unref();
  (child.stdout as unknown as { unref?: () => void } | null)?.unref?.();
  (child.stderr as unknown as { unref?: () => void } | null)?.unref?.();

  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`alertmanager exited before it was ready (${child.exitCode ?? child.signalCode}): ${logTail.slice(-5).join(" | ")}`);
    }
    try {
      const res = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return child;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  await terminate(child);
  throw new Error(`alertmanager on ${url} was not ready after ${READY_TIMEOUT_MS} ms: ${logTail.slice(-5).join(" | ")}`);
}

function handle(first: ChildProcess, dir: string, port: number, relaunch: () => Promise<ChildProcess>): RunningAlertmanager {
  const url = `http://127.0.0.1:${port}`;
  let child = first;
  let client: SilencesClient | undefined;
  return {
    url,
    async stop() {
      await terminate(child);
      await rm(dir, { recursive: true, force: true });
    },
    async halt() {
      await terminate(child);
    },
    async restart() {
      await terminate(child);
      // The port was ours a moment ago; another process may hold it briefly (TIME_WAIT does not block a listener).
      const deadline = Date.now() + 10_000;
      for (;;) {
        try {
          child = await relaunch();
          return;
        } catch (err) {
          if (!/address already in use/i.test(String((err as Error).message)) || Date.now() > deadline) throw err;
          await sleep(250);
        }
      }
    },
    async postAlerts(alerts) {
      const res = await fetch(`${url}/api/v2/alerts`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(alerts),
        signal: AbortSignal.timeout(5000),
      });
      if (!res.ok) throw new Error(`alertmanager rejected the alerts (${res.status}): ${await res.text()}`);
    },
    async getAlerts(filter = {}) {
      const q = new URLSearchParams();
      for (const [name, value] of Object.entries(filter.labels ?? {})) q.append("filter", `${name}=${JSON.stringify(value)}`);
      for (const key of ["active", "silenced", "inhibited", "unprocessed"] as const) {
        const v = filter[key];
        if (v !== undefined) q.set(key, String(v));
      }
      const res = await fetch(`${url}/api/v2/alerts?${q}`, { signal: AbortSignal.timeout(5000) });
      if (!res.ok) throw new Error(`alertmanager GET /api/v2/alerts failed (${res.status}): ${await res.text()}`);
      return (await res.json()) as GettableAlert[];
    },
    silences() {
      client ??= new SilencesClient({ baseUrl: url });
      return client;
    },
  };
}

async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
}

let hooksInstalled = false;
function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  const killAll = () => {
    for (const child of running) child.kill("SIGKILL");
  };
  process.once("exit", killAll);
  // On a signal Node exits without running "exit" listeners: kill the children, then die of the same signal.
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      killAll();
      process.kill(process.pid, signal);
    });
  }
}



function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
