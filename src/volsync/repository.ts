/**
 * The restic target of a ReplicationSource: the Secret its `spec.restic.repository` names (same
 * namespace), and its `spec.restic.customCA` written to a private file for `--cacert`. Its
 * credentials are registered with the log scrubber; no value goes into a message.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kube } from '../kube/client.ts';
import { kubeErrorLine, statusCode } from '../kube/client.ts';
import { UserError } from '../errors.ts';
import { REQUIRED_SECRET_KEYS, registerRepositoryCredentials } from '../restic/environment.ts';
import type { ResticTarget } from '../restic/run.ts';
import type { ReplicationSource } from './source.ts';

export interface OpenRepository {
  target: ResticTarget;
  /** The Secret's name (not its content), for messages. */
  secretName: string;
  /** Removes the CA file, if one was written. */
  close(): Promise<void>;
}

function decode(data: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(data ?? {})) out[key] = Buffer.from(value, 'base64').toString('utf8');
  return out;
}

/** Checks the Secret's keys; the one line names what is missing, never a value. */
export function secretProblem(namespace: string, secretName: string, data: Readonly<Record<string, string>>): string | undefined {
  const missing = REQUIRED_SECRET_KEYS.filter((k) => !data[k]?.trim());
  if (missing.length === 0) return undefined;
  const present = Object.keys(data).sort();
  return (
    `Secret \`${namespace}/${secretName}\` (the repository Secret of this source) ${missing.length === 1 ? 'has no' : 'lacks'} ${missing.join(' and ')}` +
    `${present.length ? ` (it has ${present.join(', ')})` : ' (it is empty)'}: add ${missing.length === 1 ? 'it' : 'them'}, then try again. \`/backup doctor ${namespace}\` checks every source's Secret.`
  );
}

async function readSecretData(kube: Kube, namespace: string, name: string, what: string): Promise<Record<string, string>> {
  try {
    const secret = await kube.core.readNamespacedSecret({ name, namespace });
    return decode(secret.data);
  } catch (err) {
    if (statusCode(err) === 404) throw new UserError(`${what}, but \`${namespace}\` has no Secret \`${name}\`. Create it (VolSync's mover needs it too), then try again.`, 'not-found');
    throw new UserError(kubeErrorLine(err, `read Secret ${namespace}/${name}`, kube));
  }
}

async function readCa(kube: Kube, namespace: string, source: string, ca: NonNullable<NonNullable<ReplicationSource['spec']>['restic']>['customCA']): Promise<string | undefined> {
  if (!ca || (!ca.secretName && !ca.configMapName)) return undefined;
  const key = ca.key;
  const what = `ReplicationSource \`${namespace}/${source}\` takes its CA from spec.restic.customCA`;
  if (!key) throw new UserError(`${what} but names no \`key\`: set spec.restic.customCA.key to the key holding the PEM bundle.`);
  let pem: string | undefined;
  let from: string;
  if (ca.secretName) {
    from = `Secret \`${namespace}/${ca.secretName}\``;
    pem = (await readSecretData(kube, namespace, ca.secretName, `${what} (Secret \`${ca.secretName}\`)`))[key];
  } else {
    from = `ConfigMap \`${namespace}/${ca.configMapName}\``;
    try {
      const cm = await kube.core.readNamespacedConfigMap({ name: ca.configMapName!, namespace });
      pem = cm.data?.[key];
    } catch (err) {
      if (statusCode(err) === 404) throw new UserError(`${what} (ConfigMap \`${ca.configMapName}\`), but \`${namespace}\` has no such ConfigMap. Create it, then try again.`, 'not-found');
      throw new UserError(kubeErrorLine(err, `read ConfigMap ${namespace}/${ca.configMapName}`, kube));
    }
  }
  if (!pem?.trim()) throw new UserError(`${what}: ${from} has no key \`${key}\` (or it is empty). Add the CA bundle there, then try again.`);
  return pem;
}

/**
 * Reads the repository Secret (and CA) of `source`. The caller must `close()` it; `withRepository`
 * does that for you.
 */
export async function openRepository(kube: Kube, source: ReplicationSource): Promise<OpenRepository> {
  const namespace = source.metadata?.namespace ?? '';
  const name = source.metadata?.name ?? '';
  const restic = source.spec?.restic;
  if (!restic) throw new UserError(`ReplicationSource \`${namespace}/${name}\` does not use restic (no spec.restic): /restic works with restic movers only.`);
  const secretName = restic.repository;
  if (!secretName) throw new UserError(`ReplicationSource \`${namespace}/${name}\` names no repository Secret (spec.restic.repository is empty): set it, then try again.`);

  const data = await readSecretData(kube, namespace, secretName, `ReplicationSource \`${namespace}/${name}\` takes its repository from Secret \`${secretName}\` (spec.restic.repository)`);
  registerRepositoryCredentials(data);
  const problem = secretProblem(namespace, secretName, data);
  if (problem) throw new UserError(problem);

  const pem = await readCa(kube, namespace, name, restic.customCA);
  let caDir: string | undefined;
  let cacert: string | undefined;
  if (pem !== undefined) {
    caDir = await mkdtemp(join(tmpdir(), 'backup-bot-ca-'));
    cacert = join(caDir, 'ca.pem');
    await writeFile(cacert, pem, { mode: 0o600 });
  }
  const { RESTIC_REPOSITORY: repository = '', ...env } = data;
  const target: ResticTarget = {
    repository,
    env,
    credentialsFrom: `Secret ${namespace}/${secretName}`,
    ...(cacert !== undefined ? { cacert } : {}),
  };
  return {
    target,
    secretName,
    close: async () => {
      if (caDir) await rm(caDir, { recursive: true, force: true });
    },
  };
}

export async function withRepository<T>(kube: Kube, source: ReplicationSource, work: (repo: OpenRepository) => Promise<T>): Promise<T> {
  const repo = await openRepository(kube, source);
  try {
    return await work(repo);
  } finally {
    await repo.close();
  }
}
