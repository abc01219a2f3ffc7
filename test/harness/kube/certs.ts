// Serving certificate and service-account keys for the test API server, made with openssl so the
// kubeconfig can carry a real CA instead of insecure-skip-tls-verify.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCommand } from './run-command.ts';

export interface ControlPlaneCerts {
  caFile: string;
  servingCertFile: string;
  servingKeyFile: string;
  saPublicKeyFile: string;
  saPrivateKeyFile: string;
}

const OPENSSL = process.env['OPENSSL'] ?? 'openssl';

async function openssl(args: string[]): Promise<void> {
  try {
    await runCommand(OPENSSL, args);
  } catch (err) {
    throw new Error(`${(err as Error).message}\nInstall openssl (apt-get install openssl) or set OPENSSL=/path/to/openssl`);
  }
}

export async function generateCerts(dir: string): Promise<ControlPlaneCerts> {
  const f = (name: string): string => join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await openssl([
    'req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '3650',
    '-subj', '/CN=backup-bot-test-ca',
    '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  await openssl(['req', '-new', ...ec, '-keyout', f('apiserver.key'), '-out', f('apiserver.csr'), '-subj', '/CN=kube-apiserver']);
  await writeFile(
    f('apiserver.ext'),
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth',
      'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,IP:10.0.0.1',
      '',
    ].join('\n'),
  );
  await openssl([
    'x509', '-req', '-in', f('apiserver.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-set_serial', `0x${Date.now().toString(16)}`,
    '-days', '3650', '-extfile', f('apiserver.ext'), '-out', f('apiserver.crt'),
  ]);
  await openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', f('sa.key')]);
  await openssl(['pkey', '-in', f('sa.key'), '-pubout', '-out', f('sa.pub')]);
  return {
    caFile: f('ca.crt'),
    servingCertFile: f('apiserver.crt'),
    servingKeyFile: f('apiserver.key'),
    saPublicKeyFile: f('sa.pub'),
    saPrivateKeyFile: f('sa.key'),
  };
}
