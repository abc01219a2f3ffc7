// The silences client and the webhook payload schema against a real Alertmanager.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import type { GettableAlert } from "../../src/alerts/alertmanager-types.ts";
import { webhookPayloadSchema } from "../../src/alerts/alertmanager-types.ts";
import { AlertmanagerError, SilencesClient, matchersForAlert } from "../../src/alerts/silences.ts";
import { alertmanagerSkipReason, startAlertmanager, type RunningAlertmanager } from "../harness/alertmanager.ts";
import { stopAll } from "../harness/stop-all.ts";

const skip = alertmanagerSkipReason();
const HOUR = 3600_000;

function crashAlert(pod: string) {
  return {
    labels: {
      alertname: "KubePodCrashLooping",
      namespace: "media",
      pod,
      container: "plex",
      severity: "warning",
    },
    annotations: { description: `Container plex in pod ${pod} has restarted 7 times in the last hour.` },
    startsAt: new Date(Date.now() - 60_000).toISOString(),
    endsAt: new Date(Date.now() + HOUR).toISOString(),
  };
}

async function eventually<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await read();
  while (!ok(last)) {
    if (Date.now() > deadline) assert.fail(`${what} did not happen within ${timeoutMs} ms; last value: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 100));
    last = await read();
  }
  return last;
}

async function alertFor(am: RunningAlertmanager, pod: string): Promise<GettableAlert | undefined> {
  const alerts = await am.getAlerts({ labels: { pod } });
  return alerts.find((a) => a.labels["pod"] === pod);
}

describe("SilencesClient against a real Alertmanager", { skip }, () => {
  let am: RunningAlertmanager;
  let client: SilencesClient;

  before(async () => {
    am = await startAlertmanager();
    client = am.silences();
  });
  after(() => stopAll(am));

  it("silences a firing alert by its own labels, finds it by marker, and un-silences it on expire", async () => {
    const alert = crashAlert("plex-5d8c7b9f6d-abcde");
    await am.postAlerts([alert]);
    const firing = await eventually("the alert to be active", () => alertFor(am, alert.labels.pod), (a) => a?.status.state === "active");
    assert.deepEqual(firing?.status.silencedBy, []);

    const matchers = client.matchersForAlert(alert.labels);
    assert.deepEqual(
      matchers.map((m) => `${m.name}=${m.value}`),
      ["alertname=KubePodCrashLooping", "namespace=media", "pod=plex-5d8c7b9f6d-abcde", "container=plex"],
      "severity must not be part of the scope",
    );

    const marker = "[backup-bot:pbs@2026-11-22T02:00:00Z]";
    const id = await client.create({
      matchers,
      startsAt: new Date(),
      endsAt: new Date(Date.now() + HOUR),
      createdBy: "backup-bot (U0123ALICE)",
      comment: `Backup window pbs ${marker}`,
    });
    assert.match(id, /^[0-9a-f-]{36}$/);

    const active = await client.list({ activeOnly: true });
    const listed = active.find((s) => s.id === id);
    assert.ok(listed, "the new silence is listed as active");
    assert.equal(listed.status.state, "active");
    assert.equal(listed.createdBy, "backup-bot (U0123ALICE)");

    const suppressed = await eventually("the alert to be suppressed", () => alertFor(am, alert.labels.pod), (a) => a?.status.state === "suppressed");
    assert.ok(suppressed?.status.silencedBy.includes(id), "silencedBy names our silence");

    const owned = await client.findOwned(marker);
    assert.deepEqual(owned.map((s) => s.id), [id]);
    assert.deepEqual(await client.findOwned("[backup-bot:other@2026-11-22T02:00:00Z]"), []);

    await client.expire(id);
    const released = await eventually("the alert to be active again", () => alertFor(am, alert.labels.pod), (a) => a?.status.state === "active");
    assert.deepEqual(released?.status.silencedBy, []);
    assert.equal((await client.get(id)).status.state, "expired");
    assert.deepEqual(await client.findOwned(marker), [], "an expired silence is no longer owned");
    assert.equal((await client.list({ activeOnly: true })).some((s) => s.id === id), false);
  });

  it("treats expiring an already expired silence as done, and an unknown id as an error", async () => {
    const id = await client.create({
      matchers: matchersForAlert({ alertname: "KubePodCrashLooping", namespace: "backrest" }),
      startsAt: new Date(),
      endsAt: new Date(Date.now() + HOUR),
      createdBy: "test",
      comment: "expire twice",
    });
    await client.expire(id);
    await client.expire(id);
    assert.equal((await client.get(id)).status.state, "expired");

    await assert.rejects(client.expire("00000000-0000-4000-8000-000000000000"), (err: unknown) => {
      assert.ok(err instanceof AlertmanagerError);
      assert.equal(err.kind, "not-found");
      assert.match(err.message, /has no silence 00000000-0000-4000-8000-000000000000/);
      return true;
    });
  });

  it("filters by createdBy and comment, and lists pending silences as owned", async () => {
    const marker = `[backup-bot:pbs@${new Date(Date.now() + HOUR).toISOString()}]`;
    const id = await client.create({
      matchers: matchersForAlert({ alertname: "KubePodCrashLooping", namespace: "kube-system", pod: "kube-scheduler-talos-monitor" }),
      startsAt: new Date(Date.now() + HOUR),
      endsAt: new Date(Date.now() + 2 * HOUR),
      createdBy: "window-scheduler",
      comment: `Window opens later ${marker}`,
    });
    const pending = await client.findOwned(marker);
    assert.deepEqual(pending.map((s) => [s.id, s.status.state]), [[id, "pending"]]);
    assert.deepEqual((await client.list({ createdBy: "window-scheduler" })).map((s) => s.id), [id]);
    assert.deepEqual((await client.list({ activeOnly: true, createdBy: "window-scheduler" })), [], "pending is not active");
    assert.deepEqual((await client.list({ commentContains: "Window opens later" })).map((s) => s.id), [id]);
    await client.expire(id);
  });

  it("passes Alertmanager's own 400 message through in one line", async () => {
    // A lookahead is valid in JavaScript but not in Go's RE2, so only Alertmanager can refuse it.
    await assert.rejects(
      client.create({
        matchers: [{ name: "pod", value: "(?=kube)scheduler", isRegex: true }],
        startsAt: new Date(),
        endsAt: new Date(Date.now() + HOUR),
        createdBy: "test",
        comment: "bad regex",
      }),
      (err: unknown) => {
        assert.ok(err instanceof AlertmanagerError);
        assert.equal(err.kind, "http");
        assert.equal(err.status, 400);
        assert.match(err.message, /rejected POST \/api\/v2\/silences \(400\): silence invalid: .*invalid regular expression/);
        assert.doesNotMatch(err.message, /\n/);
        return true;
      },
    );
  });

  it("refuses silences it can see are wrong before calling Alertmanager", async () => {
    const base = { startsAt: new Date(), endsAt: new Date(Date.now() + HOUR), createdBy: "test", comment: "c" };
    await assert.rejects(client.create({ ...base, matchers: [{ name: "pod", value: "", isRegex: false }] }), /matcher 0 \(pod\) has an empty value/);
    await assert.rejects(client.create({ ...base, matchers: [] }), /at least one matcher/);
    await assert.rejects(
      client.create({ ...base, matchers: matchersForAlert({ alertname: "X" }), endsAt: new Date(Date.now() - 1000) }),
      /endsAt must be after startsAt; endsAt is in the past/,
    );
    assert.throws(() => matchersForAlert({ severity: "warning" }), /none of the labels alertname, namespace, pod, container/);
    assert.deepEqual(matchersForAlert({ alertname: "X", pod: " " }).map((m) => m.name), ["alertname"], "blank labels are left out");
  });

  it("links to the silence in Alertmanager's UI", () => {
    assert.equal(client.silenceUrl("abc-123"), `${am.url}/#/silences/abc-123`);
    const external = new SilencesClient({ baseUrl: am.url, externalUrl: "https://alerts.example.org/" });
    assert.equal(external.silenceUrl("abc-123"), "https://alerts.example.org/#/silences/abc-123");
  });
});

describe("Alertmanager webhook receiver (real Alertmanager → local HTTP server)", { skip }, () => {
  let am: RunningAlertmanager | undefined;
  let server: Server | undefined;

  after(async () => {
    await am?.stop();
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  });

  it("delivers a version 4 payload with a groupKey and the bearer token", async () => {
    const received: { headers: IncomingHttpHeaders; body: string; path: string }[] = [];
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        received.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8"), path: req.url ?? "" });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    const token = `test-${randomBytes(12).toString("hex")}`;

    am = await startAlertmanager({ webhookUrl: `http://127.0.0.1:${port}/alertmanager`, webhookToken: token });
    const alert = crashAlert("plex-5d8c7b9f6d-webhk");
    await am.postAlerts([alert]);

    await eventually("a webhook delivery", async () => received.length, (n) => n > 0, 15_000);
    const first = received[0]!;
    assert.equal(first.path, "/alertmanager");
    assert.equal(first.headers["authorization"], `Bearer ${token}`);
    assert.match(String(first.headers["content-type"]), /application\/json/);

    const raw: unknown = JSON.parse(first.body);
    assert.equal((raw as { version?: unknown }).version, "4");
    const parsed = webhookPayloadSchema.safeParse(raw);
    assert.ok(parsed.success, parsed.success ? "" : parsed.error.message);
    const payload = parsed.data;
    assert.ok(payload.groupKey.length > 0);
    assert.equal(payload.status, "firing");
    assert.equal(payload.receiver, "webhook");
    assert.deepEqual(payload.groupLabels, { alertname: "KubePodCrashLooping", namespace: "media" });
    assert.equal(payload.externalURL, am.url);
    assert.equal(payload.alerts.length, 1);
    assert.equal(payload.alerts[0]!.labels["pod"], alert.labels.pod);
    assert.equal(payload.alerts[0]!.status, "firing");
    assert.ok(payload.alerts[0]!.fingerprint.length > 0);

    // The schema is the receiver's gate: a payload of another version must not pass.
    assert.equal(webhookPayloadSchema.safeParse({ ...(raw as object), version: "3" }).success, false);
  });
});

describe("SilencesClient errors", () => {
  it("names an unreachable Alertmanager and keeps URL credentials out of the message", async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));

    const client = new SilencesClient({ baseUrl: `http://bot:hunter2secret@127.0.0.1:${port}` });
    await assert.rejects(client.list(), (err: unknown) => {
      assert.ok(err instanceof AlertmanagerError);
      assert.equal(err.kind, "unreachable");
      assert.match(err.message, new RegExp(`Alertmanager at http://127\\.0\\.0\\.1:${port} is unreachable \\(ECONNREFUSED\\)`));
      assert.doesNotMatch(err.message, /hunter2secret/);
      return true;
    });
  });

  it("gives up after the timeout instead of waiting forever", async () => {
    const seen: IncomingHttpHeaders[] = [];
    const server = createServer((req) => {
      seen.push(req.headers); // never answers
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      const client = new SilencesClient({ baseUrl: `http://bot:hunter2secret@127.0.0.1:${port}/am/`, timeoutMs: 300 });
      const started = Date.now();
      await assert.rejects(client.findOwned("[backup-bot:pbs]"), (err: unknown) => {
        assert.ok(err instanceof AlertmanagerError);
        assert.equal(err.kind, "timeout");
        assert.match(err.message, /did not answer GET \/api\/v2\/silences within 300 ms/);
        assert.doesNotMatch(err.message, /hunter2secret/);
        return true;
      });
      assert.ok(Date.now() - started < 5000);
      assert.equal(seen[0]?.authorization, `Basic ${Buffer.from("bot:hunter2secret").toString("base64")}`);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it("says so when the URL is not Alertmanager", async () => {
    const server = createServer((_req, res) => res.writeHead(200, { "content-type": "text/html" }).end("<html>login</html>"));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      const client = new SilencesClient({ baseUrl: `http://127.0.0.1:${port}` });
      await assert.rejects(client.list(), /non-JSON: is ALERTMANAGER_URL pointing at Alertmanager/);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
