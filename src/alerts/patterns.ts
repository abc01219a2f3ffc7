// The crash patterns the bot knows out of the box, taken from the runbooks in
// seeds/ (crash-loop alert table, Backrest oplog lock, restic stale lock, VolSync
// troubleshooting). Order matters: the first pattern that matches wins, so
// specific patterns come before general ones (OOMKilled before exit code 1,
// the 127.0.0.1:7445 leader-election case before the generic one).
import { crashPatternsSchema, type CrashPattern, type CrashPatternInput } from "./crash-pattern.ts";

const LEADER_ELECTION_LOST = "leader[ -]?election lost";
// Error words Go's HTTP client and net package use when an API call times out.
const TIMED_OUT = "(?:deadline exceeded|i/o timeout|timed out|timeout exceeded|TLS handshake timeout)";
const UNREACHABLE = "(?:connection refused|no route to host|connection reset|network is unreachable)";
// Where an API call went, from `Get "https://host:port/apis/…"` or `dial tcp host:port: …`.
const ENDPOINT_EXTRACT = [
  `"?https?://(?<endpoint>[^/"\\s]+)/.*(?:${TIMED_OUT}|${UNREACHABLE})`,
  `dial tcp (?<endpoint>[^\\s]+?): .*(?:${TIMED_OUT}|${UNREACHABLE})`,
];

const defaults: CrashPatternInput[] = [
  {
    id: "oom-killed",
    title: "Out of memory (OOMKilled)",
    match: { terminationReason: "OOMKilled", memoryLimitSet: true },
    cause:
      "Container {{container|in the pod}} used more than its memory limit of {{memoryLimit}} and the kernel killed it.",
    nextStep:
      "Raise `resources.limits.memory` of container {{container|<container>}} from {{memoryLimit}} to " +
      "{{nextMemoryTier|the next tier (256Mi → 512Mi → 1Gi → 2Gi)}} (+50% would be {{memoryPlus50|half as much again}}) " +
      "in the {{ownerName|workload's}} manifest, commit and push; the GitOps sync applies it.",
    evidenceFields: ["memoryLimit", "restartCount"],
  },
  {
    id: "oom-killed-no-limit",
    title: "Out of memory (OOMKilled), no memory limit set",
    match: { terminationReason: "OOMKilled", memoryLimitSet: false },
    cause:
      "Container {{container|in the pod}} was OOMKilled but has no memory limit: the node itself ran out of memory and the kernel picked this process.",
    nextStep:
      "Give container {{container|<container>}} a memory request and limit in the {{ownerName|workload's}} manifest " +
      "(start at 512Mi and adjust to `kubectl -n {{namespace}} top pod {{pod}}`), and check the node's memory pressure with `kubectl describe node`.",
    evidenceFields: ["restartCount"],
  },
  {
    id: "image-pull",
    title: "Image cannot be pulled",
    match: { waitingReason: ["ImagePullBackOff", "ErrImagePull", "InvalidImageName", "ErrImageNeverPull"] },
    extract: ['image "(?<image>[^"]+)"'],
    cause:
      "Kubernetes cannot pull the image {{image}} ({{waitingReason}}): the tag does not exist, the name is wrong, the registry is unreachable or its credentials are missing.",
    nextStep:
      "Fix the image reference `{{image}}` in the {{ownerName|workload's}} manifest (check that the tag exists in the registry; for a private registry check `imagePullSecrets`), then commit and push.",
    evidenceFields: ["image"],
  },
  {
    id: "backrest-oplog-lock",
    title: "Backrest oplog locked by another instance",
    match: { logRegex: "oplog is locked by another instance of backrest" },
    cause:
      "Backrest holds an exclusive lock on its oplog and a second instance found it taken: with a `RollingUpdate` strategy " +
      "Kubernetes starts the new pod while the old one still runs on the same volume. Backrest cannot run two instances.",
    nextStep:
      "Switch the Deployment to `Recreate` so the old pod is gone before the new one starts:\n" +
      "```\nkubectl -n {{namespace}} patch deployment {{ownerName|<deployment>}} --type merge -p '{\"spec\":{\"strategy\":{\"type\":\"Recreate\",\"rollingUpdate\":null}}}'\n```\n" +
      "and make the same change in the manifest so the next sync keeps it:\n" +
      "```\nspec:\n  strategy:\n    type: Recreate\n```",
    evidenceFields: ["strategy", "replicas"],
  },
  {
    id: "restic-repository-locked",
    title: "restic repository is locked",
    match: {
      logRegex:
        "repository is already locked (?:exclusively )?by PID (?<lockPid>\\d+) on (?<lockHost>\\S+)(?: by (?<lockUser>[^(]+?))?\\s*(?:\\(|$)",
    },
    extract: ["lock was created at (?<lockCreatedAt>.+?) \\((?<lockAgeRaw>[^)]+?) ago\\)"],
    cause:
      "restic could not lock the repository because a lock is still held by {{lockHolder}}. A mover that crashed or was " +
      "deleted mid-backup leaves such a lock behind, and every later sync fails until it is removed.",
    nextStep:
      "Check the lock with `/restic locks {{namespace}} {{app}}` (it tells stale, orphaned and live locks apart), then " +
      "`/restic unlock {{namespace}} {{app}}`; use `--remove-all` only when no mover pod is using the repository.",
  },
  {
    id: "longhorn-volume-not-ready",
    title: "Longhorn volume not ready",
    match: { logRegex: "volume is not ready for workloads|DetachedUnexpectedly|dead unexpectedly" },
    cause:
      "The Longhorn volume behind this pod's PVC is faulted (typically after a mass pod restart killed its engine), so the pod cannot start.",
    nextStep:
      "Longhorn's auto-salvage usually recovers it: watch `kubectl get volumes.longhorn.io -n longhorn-system " +
      "-o custom-columns=NAME:.metadata.name,STATE:.status.state,ROBUSTNESS:.status.robustness`. If a VolSync cache or " +
      "restore volume stays faulted, delete that Longhorn volume so it is recreated; `/backup status {{namespace}}` shows the affected sources.",
  },
  {
    id: "mayastor-localpv-leader-election",
    title: "Mayastor LocalPV provisioner lost leader election",
    match: { podRegex: "localpv-provisioner", logRegex: LEADER_ELECTION_LOST },
    extract: ENDPOINT_EXTRACT,
    cause:
      "The Mayastor LocalPV provisioner still uses v1 Endpoints for leader election and exits when the API server " +
      "({{endpoint|endpoint not in the log}}) is too slow to renew them.",
    nextStep:
      "Expected while the API server is slow; it recovers by itself. If restarts keep climbing outside the backup window, " +
      "check API server health. Lasting fix: upgrade Mayastor to a release whose provisioner uses Lease objects.",
    transientInBackupWindow: true,
  },
  {
    id: "leader-election-local-api-timeout",
    title: "Leader election lost: local API endpoint timed out",
    match: { logRegex: [LEADER_ELECTION_LOST, `(?<endpoint>127\\.0\\.0\\.1:7445)\\b.*${TIMED_OUT}`] },
    cause:
      "{{pod}} lost its leader-election lease because renewing it against the node-local API endpoint {{endpoint}} timed out: " +
      "API server / etcd I/O contention, the known pattern of the nightly storage backup (PBS) window.",
    nextStep:
      "Transient during the backup window: it recovers by itself once backup I/O subsides. If it crash-loops outside the " +
      "window, check etcd latency and disk I/O on the node that hosts the control plane.",
    transientInBackupWindow: true,
  },
  {
    id: "leader-election-cluster-api",
    title: "Leader election lost: in-cluster API address failing",
    match: {
      logRegex: [LEADER_ELECTION_LOST, `(?<endpoint>10\\.96\\.0\\.1(?::\\d+)?)\\b.*(?:${TIMED_OUT}|${UNREACHABLE})`],
    },
    cause:
      "{{pod}} lost its leader-election lease because calls to the API server's in-cluster address {{endpoint}} failed: " +
      "a network (CNI, kube-proxy) or API server problem, not the backup-window pattern.",
    nextStep:
      "Investigate API server health: `kubectl get --raw='/readyz?verbose'`, the kube-apiserver and etcd logs, and the " +
      "CNI and kube-proxy pods on the node running {{pod}}.",
  },
  {
    id: "leader-election-lost",
    title: "Leader election lost",
    match: { logRegex: LEADER_ELECTION_LOST },
    extract: ENDPOINT_EXTRACT,
    cause:
      "{{pod}} could not renew its leader-election lease in time against the API server ({{endpoint|endpoint not in the log}}) and exited.",
    nextStep:
      "Check API server health (`kubectl get --raw='/readyz?verbose'`) and etcd latency. For a control-plane pod during " +
      "the backup window this is likely the known transient pattern. More log: `{{logsCommand}}`",
  },
  {
    id: "grafana-sidecar",
    title: "Grafana sidecar lost the API server",
    match: { containerRegex: "^grafana-sc-" },
    cause:
      "The Grafana sidecar {{container}} exits when its watch on the Kubernetes API server times out: the same API server " +
      "slowness that hits kube-scheduler during backup I/O.",
    nextStep:
      "It recovers by itself once the API server is responsive. If it crashes outside the backup window, investigate " +
      "API server health and read its log: `{{logsCommand}}`",
    transientInBackupWindow: true,
  },
  {
    id: "app-startup-failure",
    title: "Application start-up failure (exit code 1)",
    match: { exitCode: 1 },
    cause:
      "The application exited with code 1 while starting: usually a configuration error, a missing environment variable, " +
      "ConfigMap or Secret, or a dependency that refuses connections. The log lines below are the ones that look like errors.",
    nextStep:
      "Fix the cause the error lines name in the {{ownerName|workload's}} manifest (check that its ConfigMaps and Secrets exist and, " +
      "for InfisicalSecret, that its status is synced), then commit and push. Full log: `{{logsCommand}}`",
    evidenceFields: ["restartCount"],
  },
];

/** Validated at load: a broken default is a bug that must fail every test, not a silent miss. */
export const DEFAULT_PATTERNS: readonly CrashPattern[] = Object.freeze(crashPatternsSchema.parse(defaults));
