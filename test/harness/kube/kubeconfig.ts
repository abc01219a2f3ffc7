import { readFile, writeFile } from 'node:fs/promises';
import { parse, stringify } from 'yaml';

export const KUBE_CONTEXT = 'backup-bot-test';

export interface KubeconfigParts {
  server: string;
  token: string;
  caPem: string;
}

/** Self-contained (CA embedded) so the file can be copied or mounted elsewhere. */
export async function writeKubeconfig(path: string, parts: KubeconfigParts): Promise<void> {
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: KUBE_CONTEXT,
        cluster: { server: parts.server, 'certificate-authority-data': Buffer.from(parts.caPem).toString('base64') },
      },
    ],
    users: [{ name: `${KUBE_CONTEXT}-admin`, user: { token: parts.token } }],
    contexts: [{ name: KUBE_CONTEXT, context: { cluster: KUBE_CONTEXT, user: `${KUBE_CONTEXT}-admin`, namespace: 'default' } }],
    'current-context': KUBE_CONTEXT,
    preferences: {},
  };
  await writeFile(path, stringify(doc), { mode: 0o600 });
}

interface KubeconfigDoc {
  clusters?: { name: string; cluster: { server: string; 'certificate-authority-data'?: string } }[];
  users?: { name: string; user: { token?: string } }[];
  contexts?: { name: string; context: { cluster: string; user: string } }[];
  'current-context'?: string;
}

/** Reads back a kubeconfig written by writeKubeconfig (used when a test run shares one server). */
export async function readKubeconfig(path: string): Promise<KubeconfigParts> {
  const doc = parse(await readFile(path, 'utf8')) as KubeconfigDoc;
  const ctx = doc.contexts?.find((c) => c.name === doc['current-context']);
  const cluster = doc.clusters?.find((c) => c.name === ctx?.context.cluster);
  const user = doc.users?.find((u) => u.name === ctx?.context.user);
  const caData = cluster?.cluster['certificate-authority-data'];
  if (!cluster || !user?.user.token || !caData) {
    throw new Error(`${path} is not a kubeconfig written by test/harness/kube (needs server, token and CA data)`);
  }
  return { server: cluster.cluster.server, token: user.user.token, caPem: Buffer.from(caData, 'base64').toString('utf8') };
}
