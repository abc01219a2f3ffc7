/**
 * Typed access to the cluster: one KubeConfig (in a pod the service account, else KUBECONFIG or
 * ~/.kube/config and its current context) and the API clients built from it. Every engine that
 * talks to Kubernetes gets its clients here, and turns failures into one line with kubeErrorLine.
 */
import {
  ApiException,
  AppsV1Api,
  BatchV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  ApiextensionsV1Api,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { readFileSync } from 'node:fs';
import { shareDispatchers } from './dispatcher.ts';

export const VOLSYNC = { group: 'volsync.backube', version: 'v1alpha1', sources: 'replicationsources', destinations: 'replicationdestinations' } as const;
export const LONGHORN = { group: 'longhorn.io', version: 'v1beta2', volumes: 'volumes', namespace: 'longhorn-system' } as const;
export const PERCONA = { group: 'ps.percona.com', version: 'v1alpha1', backups: 'perconaservermysqlbackups', restores: 'perconaservermysqlrestores' } as const;

/** client-node sends json-patch unless told otherwise; our patches are merge patches. */
export const MERGE_PATCH = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

export interface Kube {
  kc: KubeConfig;
  /** The API server URL, for messages (never credentials). */
  server: string;
  context: string;
  core: CoreV1Api;
  apps: AppsV1Api;
  batch: BatchV1Api;
  custom: CustomObjectsApi;
  coordination: CoordinationV1Api;
  apiext: ApiextensionsV1Api;
}

export function kubeFromConfig(kc: KubeConfig): Kube {
  shareDispatchers(kc);
  return {
    kc,
    server: kc.getCurrentCluster()?.server ?? 'unknown',
    context: kc.getCurrentContext(),
    core: kc.makeApiClient(CoreV1Api),
    apps: kc.makeApiClient(AppsV1Api),
    batch: kc.makeApiClient(BatchV1Api),
    custom: kc.makeApiClient(CustomObjectsApi),
    coordination: kc.makeApiClient(CoordinationV1Api),
    apiext: kc.makeApiClient(ApiextensionsV1Api),
  };
}

/**
 * With no KUBECONFIG, no ~/.kube/config and no service account, client-node's loadFromDefault does
 * not fail: it invents a cluster "cluster" at http://localhost:8080 with an empty user "user" in a
 * context "loaded-context". That is not a cluster anyone configured (client-node even refuses plain
 * HTTP), so it must read as "none", not surface as a baffling error on the first command.
 */
export function isDefaultFallback(kc: KubeConfig): boolean {
  const [cluster, ...moreClusters] = kc.getClusters();
  const [user, ...moreUsers] = kc.getUsers();
  return (
    moreClusters.length === 0 && moreUsers.length === 0 &&
    cluster?.name === 'cluster' && cluster.server === 'http://localhost:8080' &&
    user?.name === 'user' && !user.token && !user.certFile && !user.certData && !user.keyFile && !user.keyData && !user.exec && !user.authProvider && !user.username &&
    kc.getCurrentContext() === 'loaded-context'
  );
}

/**
 * Loads the cluster the bot should talk to, or undefined when none is configured (the terminal
 * on a laptop without a kubeconfig still answers help, and cluster commands say how to get one).
 */
export function loadKube(opts: { kubeconfigPath?: string } = {}): Kube | undefined {
  const kc = new KubeConfig();
  try {
    if (opts.kubeconfigPath) kc.loadFromFile(opts.kubeconfigPath);
    else kc.loadFromDefault();
  } catch {
    return undefined;
  }
  if (!kc.getCurrentCluster()) return undefined;
  if (!opts.kubeconfigPath && isDefaultFallback(kc)) return undefined;
  return kubeFromConfig(kc);
}

export function isApiException(err: unknown): err is ApiException<unknown> {
  return err instanceof ApiException || (typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'number' && 'body' in err);
}

export function statusCode(err: unknown): number | undefined {
  return isApiException(err) ? err.code : undefined;
}

function apiMessage(err: ApiException<unknown>): string | undefined {
  const body = err.body;
  if (typeof body === 'string') {
    try {
      return (JSON.parse(body) as { message?: string }).message;
    } catch {
      return undefined;
    }
  }
  return (body as { message?: string } | undefined)?.message;
}

/**
 * One line, naming the cause and what to do, for an API failure while doing `what`
 * (e.g. "list ReplicationSources in media"). Never includes credentials.
 */
export function kubeErrorLine(err: unknown, what: string, kube?: Pick<Kube, 'server'>): string {
  if (isApiException(err)) {
    const msg = apiMessage(err);
    switch (err.code) {
      case 401:
        return `Cannot ${what}: the API server rejected the bot's credentials (401). Check the kubeconfig or the service account token.`;
      case 403:
        return `Cannot ${what}: RBAC forbids it (403${msg ? `: ${msg.slice(0, 200)}` : ''}). Grant the bot's service account that permission (see deploy/rbac.yaml).`;
      case 404:
        return `Cannot ${what}: not found (404). ${msg ? msg.slice(0, 200) : 'Check the name and namespace, and that the CRD is installed.'}`;
      case 409:
        return `Cannot ${what}: it changed meanwhile (409 conflict). Try again.`;
      case 429:
      case 500:
      case 503:
        return `Cannot ${what}: the API server is overloaded or failing (${err.code}). Try again in a minute.`;
      default:
        return `Cannot ${what}: the API server answered ${err.code}${msg ? `: ${msg.slice(0, 200)}` : ''}.`;
    }
  }
  const e = err as { code?: string; cause?: { code?: string }; message?: string; name?: string };
  const code = e?.cause?.code ?? e?.code;
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EHOSTUNREACH' || code === 'ECONNRESET' || code === 'ETIMEDOUT' || /fetch failed|ECONNREFUSED|socket hang up/i.test(e?.message ?? '')) {
    return `Cannot ${what}: the Kubernetes API server${kube ? ` at ${kube.server}` : ''} is unreachable (${code ?? 'connection failed'}). Check that the cluster is up and the kube context is right.`;
  }
  if (e?.name === 'AbortError' || e?.name === 'TimeoutError') {
    return `Cannot ${what}: the Kubernetes API server did not answer in time. Try again; if it persists, check the API server's health.`;
  }
  return `Cannot ${what}: ${String(e?.message ?? err).split('\n')[0]?.slice(0, 200)}.`;
}

/**
 * The namespace the bot keeps its own state in (confirmations, leases, thread map): POD_NAMESPACE
 * (downward API), else the service account's namespace, else the kube context's, else "default".
 */
export function botNamespace(kube: Kube, env: NodeJS.ProcessEnv = process.env): string {
  if (env.POD_NAMESPACE?.trim()) return env.POD_NAMESPACE.trim();
  try {
    const fromSa = readFileSync('/var/run/secrets/kubernetes.io/serviceaccount/namespace', 'utf8').trim();
    if (fromSa) return fromSa;
  } catch {
    // Not in a pod.
  }
  return kube.kc.getContextObject(kube.kc.getCurrentContext())?.namespace ?? 'default';
}
