// The crash classifier, fed the exact log lines from the runbooks in seeds/.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  DEFAULT_PATTERNS,
  classify,
  crashPatternSchema,
  fill,
  humanDuration,
  mergePatterns,
  parseCrashPatterns,
  type CrashEvidence,
} from "../../src/alerts/classify.ts";
import { pickErrorLines } from "../../src/alerts/error-lines.ts";
import { nextMemoryTier, parseMemoryQuantity } from "../../src/alerts/memory-tier.ts";

// seeds/backrest-oplog-lock-runbook.md
const BACKREST_FATAL = 'FATAL    oplog is locked by another instance of backrest    {"data_dir": "/data"}';
const BACKREST_STARTING = 'INFO    backrest starting    {"version": "v1.12.0", ...}';
const BACKREST_RESTIC = 'INFO    restic binary "/bin/restic" in $PATH matches required version...';

// seeds/restic-stale-lock-runbook.md
const RESTIC_LOCKED = [
  "repo already locked, waiting up to 0s for the lock",
  "unable to create lock in backend: repository is already locked by PID 32 on volsync-src-plex-nzlv6 by root (UID 0, GID 0)",
  "lock was created at 2025-12-13 10:24:46 (189h37m14.500688624s ago)",
  "the `unlock` command can be used to remove stale locks",
];

// seeds/crashloop-alert-runbook.md ("Both pods crash (exit code 1: "Leaderelection lost")", timeout to 127.0.0.1:7445)
const LEADERELECTION_LOST = "Leaderelection lost";
const LOCAL_API_GET_TIMEOUT =
  'Get "https://127.0.0.1:7445/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-scheduler?timeout=5s": context deadline exceeded';
const LOCAL_API_DIAL_TIMEOUT = "dial tcp 127.0.0.1:7445: i/o timeout";

// seeds/volsync-troubleshooting-runbook.md
const LONGHORN_NOT_READY = "volume is not ready for workloads";
const LONGHORN_DETACHED = "Warning  DetachedUnexpectedly  Engine of volume pvc-xxx dead unexpectedly, setting v.Status.Robustness to faulted";

function crash(over: Partial<CrashEvidence>): CrashEvidence {
  return {
    pod: "app-5d8c7b9f6d-abcde",
    namespace: "apps",
    container: "app",
    restartCount: 7,
    waitingReason: "CrashLoopBackOff",
    ...over,
  };
}

/** The classification of a crash with the defaults of `crash` and these overrides. */
function classifyCrash(over: Partial<CrashEvidence>, patterns?: Parameters<typeof classify>[1]) {
  return classify(crash(over), patterns);
}

function assertBounded(evidence: string[]): void {
  assert.ok(evidence.length <= 8, `at most 8 evidence lines, got ${evidence.length}`);
  for (const line of evidence) assert.ok(line.length <= 300, `evidence line of ${line.length} chars`);
}

describe("OOMKilled", () => {
  const oom = (memoryLimit?: string) =>
    classifyCrash({
      lastTermination: { reason: "OOMKilled", exitCode: 137, finishedAt: "2026-02-26T02:10:00Z" },
      ...(memoryLimit === undefined ? {} : { memoryLimit }),
    });

  it("names the current limit and the next tier", () => {
    const c = oom("256Mi");
    assert.equal(c.id, "oom-killed");
    assert.match(c.cause, /memory limit of 256Mi/);
    assert.match(c.nextStep, /from 256Mi to 512Mi/);
    assert.match(c.nextStep, /\+50% would be 384Mi/);
    assert.match(c.nextStep, /in the app manifest/, "the Deployment name is derived from the pod name");
    assert.ok(c.evidence.includes("last termination reason: OOMKilled"));
    assert.ok(c.evidence.includes("exit code: 137"));
    assert.ok(c.evidence.includes("memory limit: 256Mi"));
    assert.equal(c.transientInBackupWindow, false);
  });

  it("walks the tiers 256Mi → 512Mi → 1Gi → 2Gi and rounds limits between tiers up", () => {
    const cases: [string, string][] = [
      ["256Mi", "512Mi"],
      ["512Mi", "1Gi"],
      ["1Gi", "2Gi"],
      ["2Gi", "4Gi"],
      ["1024Mi", "2Gi"],
      ["300Mi", "512Mi"],
      ["700Mi", "1Gi"],
      ["1.5Gi", "2Gi"],
      // 500Mi → 512Mi would not stop the next kill: go one tier further.
      ["500Mi", "1Gi"],
      // Decimal units: 512M is 488Mi.
      ["512M", "1Gi"],
      ["268435456", "512Mi"],
    ];
    for (const [limit, next] of cases) {
      assert.equal(nextMemoryTier(limit), next, limit);
      assert.match(oom(limit).nextStep, new RegExp(`from ${limit.replace(".", "\\.")} to ${next}\\b`), limit);
    }
  });

  it("falls back to +50% outside the tier table", () => {
    assert.equal(nextMemoryTier("32Mi"), "48Mi");
    assert.equal(nextMemoryTier("100Gi"), "150Gi");
  });

  it("says so when there is no memory limit", () => {
    const c = oom(undefined);
    assert.equal(c.id, "oom-killed-no-limit");
    assert.match(c.cause, /has no memory limit/);
    assert.match(c.nextStep, /memory request and limit/);
    assert.doesNotMatch(c.nextStep, /<\w+>/, "no unfilled placeholder");
  });

  it("does not invent a tier for an unreadable limit", () => {
    assert.equal(parseMemoryQuantity("lots"), undefined);
    const c = oom("lots");
    assert.equal(c.id, "oom-killed");
    assert.match(c.nextStep, /from lots to the next tier \(256Mi → 512Mi → 1Gi → 2Gi\)/);
  });

  it("wins over the exit-code and sidecar patterns", () => {
    const c = classifyCrash({
      container: "grafana-sc-dashboard",
      memoryLimit: "64Mi",
      lastTermination: { reason: "OOMKilled", exitCode: 1 },
    });
    assert.equal(c.id, "oom-killed");
    assert.match(c.nextStep, /from 64Mi to 128Mi/);
  });
});

describe("leader election lost", () => {
  const scheduler = (log: string[]) =>
    classifyCrash({
      pod: "kube-scheduler-talos-monitor",
      namespace: "kube-system",
      container: "kube-scheduler",
      restartCount: 12,
      lastTermination: { reason: "Error", exitCode: 1 },
      previousLog: log,
    });

  it("with an API timeout to 127.0.0.1:7445 is the backup-window pattern", () => {
    const c = scheduler([
      "I0226 02:13:30.000000       1 leaderelection.go:250] attempting to acquire leader lease kube-system/kube-scheduler...",
      `E0226 02:13:36.000000       1 leaderelection.go:332] error retrieving resource lock kube-system/kube-scheduler: ${LOCAL_API_GET_TIMEOUT}`,
      `E0226 02:13:41.000000       1 server.go:224] "${LEADERELECTION_LOST}"`,
    ]);
    assert.equal(c.id, "leader-election-local-api-timeout");
    assert.equal(c.transientInBackupWindow, true);
    assert.equal(c.details["endpoint"], "127.0.0.1:7445");
    assert.match(c.cause, /kube-scheduler-talos-monitor lost its leader-election lease .* 127\.0\.0\.1:7445 timed out/);
    assert.match(c.cause, /backup/);
    assert.match(c.nextStep, /recovers by itself/);
    assert.equal(c.evidence.length, 2);
    assert.ok(c.evidence[0]!.includes(LOCAL_API_GET_TIMEOUT), "the timeout line, in log order");
    assert.ok(c.evidence[1]!.includes(LEADERELECTION_LOST));
    assertBounded(c.evidence);
  });

  it("recognises the dial timeout and every spelling of the message", () => {
    for (const lost of ["Leaderelection lost", "leaderelection lost", "leader election lost", "Leader election lost"]) {
      const c = scheduler([`W0226 02:13:40.1 1 reflector.go:1] ${LOCAL_API_DIAL_TIMEOUT}`, lost]);
      assert.equal(c.id, "leader-election-local-api-timeout", lost);
      assert.equal(c.details["endpoint"], "127.0.0.1:7445");
    }
  });

  it("with a failure against 10.96.0.1 is a network or API server issue", () => {
    const c = scheduler([
      'E0226 11:02:03.1 1 leaderelection.go:332] error retrieving resource lock kube-system/kube-controller-manager: Get "https://10.96.0.1:443/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-controller-manager?timeout=5s": dial tcp 10.96.0.1:443: i/o timeout',
      "F0226 11:02:08.1 1 controllermanager.go:312] leaderelection lost",
    ]);
    assert.equal(c.id, "leader-election-cluster-api");
    assert.equal(c.transientInBackupWindow, false);
    assert.equal(c.details["endpoint"], "10.96.0.1:443");
    assert.match(c.cause, /10\.96\.0\.1:443/);
    assert.match(c.nextStep, /Investigate API server health/);
  });

  it("extracts any other endpoint, and says when the log names none", () => {
    const other = scheduler([
      'E0226 11:02:03.1 1 leaderelection.go:332] Failed to update lock: Put "https://192.168.10.5:6443/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-scheduler?timeout=5s": context deadline exceeded',
      LEADERELECTION_LOST,
    ]);
    assert.equal(other.id, "leader-election-lost");
    assert.equal(other.details["endpoint"], "192.168.10.5:6443");
    assert.match(other.cause, /\(192\.168\.10\.5:6443\)/);

    const bare = scheduler([LEADERELECTION_LOST]);
    assert.equal(bare.id, "leader-election-lost");
    assert.match(bare.cause, /endpoint not in the log/);
    assert.match(bare.nextStep, /kubectl -n kube-system logs kube-scheduler-talos-monitor -c kube-scheduler --previous --tail=50/);
  });

  it("is the Mayastor provisioner's known Endpoints weakness when it comes from that pod", () => {
    const c = classifyCrash({
      pod: "mayastor-localpv-provisioner-6d5c7b9f8d-q2w3e",
      namespace: "mayastor",
      container: "openebs-localpv-provisioner",
      restartCount: 26,
      lastTermination: { reason: "Error", exitCode: 255 },
      previousLog: [
        'E0226 02:20:00.1 1 leaderelection.go:332] error retrieving resource lock mayastor/openebs.io-local: Get "https://10.96.0.1:443/api/v1/namespaces/mayastor/endpoints/openebs.io-local": context deadline exceeded',
        "F0226 02:20:05.1 1 controller.go:888] leaderelection lost",
      ],
    });
    assert.equal(c.id, "mayastor-localpv-leader-election");
    assert.equal(c.transientInBackupWindow, true);
    assert.match(c.nextStep, /Lease objects/);
    assert.match(c.cause, /10\.96\.0\.1:443/);
  });
});

describe("image pull", () => {
  it("names the image from the waiting message (ImagePullBackOff)", () => {
    const c = classifyCrash({
      waitingReason: "ImagePullBackOff",
      waitingMessage: 'Back-off pulling image "ghcr.io/karakeep-app/karakeep:0.99.0"',
    });
    assert.equal(c.id, "image-pull");
    assert.equal(c.details["image"], "ghcr.io/karakeep-app/karakeep:0.99.0");
    assert.match(c.nextStep, /Fix the image reference `ghcr\.io\/karakeep-app\/karakeep:0\.99\.0`/);
    assert.ok(c.evidence.includes("waiting reason: ImagePullBackOff"));
  });

  it("uses the container's image when the message has none (ErrImagePull)", () => {
    const c = classifyCrash({ waitingReason: "ErrImagePull", image: "docker.io/library/redis:7.9-nope" });
    assert.equal(c.id, "image-pull");
    assert.match(c.cause, /docker\.io\/library\/redis:7\.9-nope \(ErrImagePull\)/);
  });
});

describe("Backrest oplog lock", () => {
  const backrest = (over: Partial<CrashEvidence> = {}) =>
    classifyCrash({
      pod: "backrest-7c9d8f6b5d-k8s2p",
      namespace: "backrest",
      container: "backrest",
      lastTermination: { reason: "Error", exitCode: 1 },
      previousLog: [BACKREST_STARTING, BACKREST_RESTIC, BACKREST_FATAL],
      ownerKind: "Deployment",
      ownerName: "backrest",
      strategy: "RollingUpdate",
      replicas: 1,
      ...over,
    });

  it("gives the exact Recreate patch and the manifest snippet", () => {
    const c = backrest();
    assert.equal(c.id, "backrest-oplog-lock");
    assert.ok(
      c.nextStep.includes(
        `kubectl -n backrest patch deployment backrest --type merge -p '{"spec":{"strategy":{"type":"Recreate","rollingUpdate":null}}}'`,
      ),
      c.nextStep,
    );
    assert.ok(c.nextStep.includes("spec:\n  strategy:\n    type: Recreate"));
    assert.match(c.cause, /RollingUpdate/);
    assert.deepEqual(c.evidence, [BACKREST_FATAL, "deployment strategy: RollingUpdate", "replicas: 1"]);
  });

  it("uses the Deployment's own name over the one guessed from the pod", () => {
    const c = backrest({ ownerName: "backrest-main" });
    assert.match(c.nextStep, /patch deployment backrest-main /);
  });
});

describe("restic repository locked", () => {
  it("names the lock holder and hints /restic locks for the app", () => {
    const c = classifyCrash({
      pod: "volsync-src-plex-abx7k",
      namespace: "media",
      container: "restic",
      lastTermination: { reason: "Error", exitCode: 1 },
      previousLog: ["Starting container", "VolSync restic container version: v0.11.0", ...RESTIC_LOCKED],
    });
    assert.equal(c.id, "restic-repository-locked");
    assert.equal(c.details["lockPid"], "32");
    assert.equal(c.details["lockHost"], "volsync-src-plex-nzlv6");
    assert.equal(c.details["lockAge"], "7d 21h");
    assert.equal(c.details["app"], "plex");
    assert.match(c.cause, /PID 32 on volsync-src-plex-nzlv6 \(user root\), created 2025-12-13 10:24:46 \(7d 21h ago\)/);
    assert.match(c.nextStep, /`\/restic locks media plex`/);
    assert.match(c.nextStep, /`\/restic unlock media plex`/);
    assert.deepEqual(c.evidence, [RESTIC_LOCKED[1], RESTIC_LOCKED[2]]);
  });

  it("falls back to the alert's pod for the app when the lock was taken elsewhere", () => {
    const c = classifyCrash({
      pod: "volsync-src-paperless-data-q8w2z",
      namespace: "paperless-ngx",
      previousLog: ["unable to create lock in backend: repository is already locked exclusively by PID 7 on laptop by alice (UID 1000, GID 1000)"],
    });
    assert.equal(c.id, "restic-repository-locked");
    assert.equal(c.details["app"], "paperless-data");
    assert.match(c.cause, /PID 7 on laptop \(user alice\)\./);
  });

  it("reads Go durations", () => {
    assert.equal(humanDuration("189h37m14.500688624s"), "7d 21h");
    assert.equal(humanDuration("2h5m0s"), "2h 5m");
    assert.equal(humanDuration("14.5s"), "14s");
    assert.equal(humanDuration("soon"), undefined);
  });
});

describe("runbook patterns for API server slowness and Longhorn", () => {
  it("Grafana sidecars self-recover (transient in the backup window)", () => {
    for (const container of ["grafana-sc-dashboard", "grafana-sc-datasources"]) {
      const c = classifyCrash({
        pod: "kube-prometheus-stack-grafana-6f7d9c8b5d-m4n5p",
        namespace: "monitoring",
        container,
        lastTermination: { reason: "Error", exitCode: 1 },
        previousLog: ["urllib3.exceptions.ReadTimeoutError: HTTPSConnectionPool(host='10.96.0.1', port=443): Read timed out."],
      });
      assert.equal(c.id, "grafana-sidecar", container);
      assert.equal(c.transientInBackupWindow, true);
      assert.match(c.nextStep, new RegExp(`kubectl -n monitoring logs kube-prometheus-stack-grafana-6f7d9c8b5d-m4n5p -c ${container} --previous --tail=50`));
      assert.ok(c.evidence.some((l) => l.includes("Read timed out")), "shows the error line");
    }
  });

  it("Longhorn volume not ready, from the pod's message or events", () => {
    for (const message of [LONGHORN_NOT_READY, LONGHORN_DETACHED]) {
      const c = classifyCrash({
        pod: "volsync-src-storage-x7k2m",
        namespace: "open-webui",
        waitingReason: "ContainerCreating",
        waitingMessage: message,
      });
      assert.equal(c.id, "longhorn-volume-not-ready", message);
      assert.match(c.nextStep, /volumes\.longhorn\.io/);
      assert.ok(c.evidence.includes(`waiting message: ${message}`));
    }
  });
});

describe("exit code 1", () => {
  it("shows the lines that explain the start-up failure", () => {
    const c = classifyCrash({
      lastTermination: { reason: "Error", exitCode: 1 },
      previousLog: [
        '{"level":"info","msg":"starting paperless","version":"2.14.7"}',
        '{"level":"info","msg":"retry failed, will try again"}',
        'level=info msg="connecting to redis" addr=redis:6379',
        '{"level":"error","msg":"cannot read PAPERLESS_SECRET_KEY","error":"environment variable missing"}',
        "dial tcp 10.43.12.7:5432: connect: connection refused",
        'level=error msg="database unavailable"',
        "shutting down",
      ],
    });
    assert.equal(c.id, "app-startup-failure");
    assert.match(c.title, /exit code 1/);
    assert.deepEqual(c.evidence, [
      "exit code: 1",
      '{"level":"error","msg":"cannot read PAPERLESS_SECRET_KEY","error":"environment variable missing"}',
      "dial tcp 10.43.12.7:5432: connect: connection refused",
      'level=error msg="database unavailable"',
      "restarts: 7",
    ]);
    assert.ok(!c.evidence.some((l) => l.includes("retry failed")), "a structured info level is not an error");
    assert.ok(!c.evidence.some((l) => l.includes("starting paperless")));
  });

  it("keeps at most five error lines of at most 300 characters: the first and the last four", () => {
    const log = Array.from({ length: 12 }, (_, i) => `error: step ${i} failed ${"x".repeat(i === 11 ? 1000 : 10)}`);
    const c = classifyCrash({ lastTermination: { exitCode: 1 }, previousLog: log });
    assert.equal(c.id, "app-startup-failure");
    const lines = c.evidence.filter((l) => l.startsWith("error:"));
    assert.equal(lines.length, 5);
    assert.ok(lines[0]!.startsWith("error: step 0 "));
    assert.ok(lines[1]!.startsWith("error: step 8 "));
    assert.ok(lines[4]!.startsWith("error: step 11 "));
    assert.equal(lines[4]!.length, 300);
    assert.ok(lines[4]!.endsWith("…"));
    assertBounded(c.evidence);
  });

  it("shows the last lines when none looks like an error", () => {
    const c = classifyCrash({ lastTermination: { exitCode: 1 }, previousLog: ["a", "b", "c", "d", "e", "f", "g"] });
    assert.equal(c.id, "app-startup-failure");
    assert.deepEqual(c.evidence, ["exit code: 1", "c", "d", "e", "f", "g", "restarts: 7"]);
  });
});

describe("fallback and edge cases", () => {
  it("unknown crash with no log says there is nothing to go on", () => {
    const c = classifyCrash({ lastTermination: { reason: "Error", exitCode: 139 } });
    assert.equal(c.id, "unknown");
    assert.match(c.cause, /no log from the previous container/);
    assert.deepEqual(c.evidence, ["waiting reason: CrashLoopBackOff", "last termination reason: Error", "exit code: 139"]);
    assert.match(c.nextStep, /kubectl -n apps logs app-5d8c7b9f6d-abcde -c app --previous --tail=50/);
    assert.equal(c.transientInBackupWindow, false);
  });

  it("unknown crash shows the last lines of the log", () => {
    const log = Array.from({ length: 20 }, (_, i) => `line ${i}`);
    const c = classifyCrash({ lastTermination: { exitCode: 2 }, previousLog: log });
    assert.equal(c.id, "unknown");
    assert.deepEqual(c.evidence.slice(-5), ["line 15", "line 16", "line 17", "line 18", "line 19"]);
  });

  it("works with nothing but a pod name", () => {
    const c = classify({ pod: "x", namespace: "y" });
    assert.equal(c.id, "unknown");
    assert.deepEqual(c.evidence, []);
    assert.match(c.nextStep, /kubectl -n y logs x --previous/);
  });

  it("copes with huge lines: matches inside them and shows a bounded excerpt", () => {
    const noise = "z".repeat(1_000_000);
    const huge = `${"q".repeat(5000)} ${BACKREST_FATAL} ${"q".repeat(50_000)}`;
    const started = Date.now();
    const c = classifyCrash({ pod: "backrest-7c9d8f6b5d-k8s2p", namespace: "backrest", previousLog: [noise, huge, noise], lastTermination: { exitCode: 1 } });
    assert.ok(Date.now() - started < 2000);
    assert.equal(c.id, "backrest-oplog-lock");
    assertBounded(c.evidence);
    assert.ok(c.evidence[0]!.includes("oplog is locked by another instance of backrest"), c.evidence[0]);
    assert.ok(c.evidence[0]!.startsWith("…") && c.evidence[0]!.endsWith("…"));
  });

  it("strips colour codes before matching", () => {
    const c = classifyCrash({ previousLog: [`\x1b[31mFATAL\x1b[0m    oplog is locked by another instance of backrest    {"data_dir": "/data"}`] });
    assert.equal(c.id, "backrest-oplog-lock");
    assert.equal(c.evidence[0], BACKREST_FATAL);
  });

  it("fills templates, with fallbacks for unknown values", () => {
    assert.equal(fill("{{a}} {{ b | none }} {{c}}", { a: "1" }), "1  none  <c>");
    assert.equal(fill(`'{"spec":{"x":null}}'`, {}), `'{"spec":{"x":null}}'`);
  });

  it("picks error lines the same way on its own", () => {
    assert.deepEqual(pickErrorLines(["ok", "E0226 02:00:00.1 1 x.go:1] boom", "I0226 02:00:00.1 1 x.go:1] failed? no, info"]), [
      "E0226 02:00:00.1 1 x.go:1] boom",
    ]);
    assert.deepEqual(pickErrorLines(["Traceback (most recent call last):", "  File x", "KeyError: 'SECRET'"]), [
      "Traceback (most recent call last):",
      "KeyError: 'SECRET'",
    ]);
  });
});

describe("user patterns", () => {
  /** The patterns the classifier uses with one user pattern from the config: parsed, then merged before the defaults. */
  const withUserPattern = (pattern: unknown) => mergePatterns(parseCrashPatterns([pattern]), DEFAULT_PATTERNS);

  it("are tried before the defaults and can use their own named groups", () => {
    const c = classifyCrash(
      {
        pod: "db-0",
        lastTermination: { exitCode: 1 },
        previousLog: ['PANIC:  could not write to file "pg_wal/xlogtemp.31": No space left on device'],
      },
      withUserPattern({
        id: "postgres-wal",
        title: "Postgres WAL volume full",
        match: { logRegex: "could not write to file \"(?<walFile>pg_wal/[^\"]+)\": No space left on device" },
        cause: "The WAL volume of {{pod}} is full ({{walFile}}).",
        nextStep: "Grow the PVC of {{ownerName|the StatefulSet}}.",
      }),
    );
    assert.equal(c.id, "postgres-wal");
    assert.equal(c.cause, "The WAL volume of db-0 is full (pg_wal/xlogtemp.31).");
    assert.equal(c.nextStep, "Grow the PVC of the StatefulSet.");
    assert.equal(c.transientInBackupWindow, false);
  });

  it("override a default with the same id", () => {
    const patterns = withUserPattern({
      id: "oom-killed",
      title: "OOM (house rules)",
      match: { terminationReason: "OOMKilled" },
      cause: "Over {{memoryLimit|no limit}}.",
      nextStep: "Ask #platform to raise it to {{nextMemoryTier|1Gi}}.",
    });
    assert.equal(patterns.filter((p) => p.id === "oom-killed").length, 1);
    const c = classifyCrash({ memoryLimit: "1Gi", lastTermination: { reason: "OOMKilled", exitCode: 137 } }, patterns);
    assert.equal(c.title, "OOM (house rules)");
    assert.equal(c.nextStep, "Ask #platform to raise it to 2Gi.");
  });

  it("that are invalid are rejected with the field and the reason", () => {
    const reject = (input: unknown, message: RegExp) => assert.throws(() => parseCrashPatterns(input), message);
    const ok = { id: "p", title: "t", cause: "c", nextStep: "n" };
    reject([{ ...ok, match: { logRegex: "oplog (is locked" } }], /alerts\.patterns\[0\]\.match\.logRegex: not a valid regular expression \(.*Unterminated group/);
    reject([{ ...ok, match: { logRegex: ["ok", "bad["] } }], /alerts\.patterns\[0\]\.match\.logRegex(\[1\])?: /);
    reject([{ ...ok, match: {} }], /alerts\.patterns\[0\]\.match: needs at least one of logRegex/);
    reject([{ ...ok, match: { logregex: "x" } }], /alerts\.patterns\[0\]\.match: Unrecognized key.*logregex/);
    reject([{ ...ok, match: { exitCode: "1" } }], /alerts\.patterns\[0\]\.match\.exitCode: /);
    reject([{ ...ok, match: { exitCode: 1 }, nextStep: "raise to {{nextmemorytier}}" }], /nextStep: unknown placeholder \{\{nextmemorytier\}\}/);
    reject([{ ...ok, id: "has space", match: { exitCode: 1 } }], /\.id: must be letters/);
    reject([{ ...ok, match: { exitCode: 1 } }, { ...ok, match: { exitCode: 2 } }], /\[1\]\.id: duplicate pattern id "p"/);
    reject([{ ...ok, title: "", match: { exitCode: 1 } }], /\.title: must not be empty/);
    // The schema itself is exported for the config loader.
    assert.equal(crashPatternSchema.safeParse({ ...ok, match: { exitCode: 1 } }).success, true);
  });

  it("default patterns pass their own schema and have unique ids", () => {
    assert.ok(DEFAULT_PATTERNS.length >= 10);
    assert.equal(new Set(DEFAULT_PATTERNS.map((p) => p.id)).size, DEFAULT_PATTERNS.length);
    for (const p of DEFAULT_PATTERNS) assert.equal(crashPatternSchema.safeParse(p).success, true, p.id);
  });
});
