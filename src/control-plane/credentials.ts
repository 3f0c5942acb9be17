import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { HarnessError, UsageError } from '../core/errors.js';
import { runCommand } from '../nodes/command-runner.js';

/** One identity the API server's static token authenticator knows. */
export interface TokenUser {
  readonly token: string;
  readonly user: string;
  readonly groups: readonly string[];
}

export interface Credentials {
  readonly dir: string;
  readonly caCert: string;
  readonly caCertPem: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly serviceAccountKey: string;
  readonly serviceAccountPublicKey: string;
  readonly tokenFile: string;
  /** The aggregation layer's own CA and the client certificate the API server proxies with (kubeadm's front-proxy-ca and front-proxy-client). */
  readonly frontProxy: FrontProxyCredentials;
  readonly admin: TokenUser;
  readonly controllerManager: TokenUser;
  readonly scheduler: TokenUser;
  /** `system:node:<name>` in `system:nodes`, as the Node authorizer and NodeRestriction expect. */
  readonly nodes: ReadonlyMap<string, TokenUser>;
}

export interface FrontProxyCredentials {
  /** `--requestheader-client-ca-file`: an aggregated API server trusts proxied requests signed by it. */
  readonly caCert: string;
  readonly caCertPem: string;
  /** `--proxy-client-cert-file` / `--proxy-client-key-file`, CN `front-proxy-client`. */
  readonly clientCert: string;
  readonly clientKey: string;
  /** `--requestheader-allowed-names`: the client certificate's common name. */
  readonly clientName: string;
}

/** A serving certificate signed by the cluster CA, for a server the API server dials (PEM). */
export interface ServingCertificate {
  readonly certPem: string;
  readonly keyPem: string;
}

export interface CredentialOptions {
  readonly dir: string;
  /** IP addresses the serving certificate must name. */
  readonly serverIPs: readonly string[];
  readonly nodeNames: readonly string[];
}

function token(): string {
  return randomBytes(24).toString('base64url');
}

async function openssl(cwd: string, ...args: string[]): Promise<void> {
  const r = await runCommand(['openssl', ...args.map((a) => (a.startsWith('@') ? path.join(cwd, a.slice(1)) : a))]);
  if (r.exitCode === 127) throw new UsageError('the real control plane needs `openssl` to make its certificates (apt-get install openssl)');
  if (r.exitCode !== 0) throw new HarnessError(`\`openssl ${args[0]}\` exited ${r.exitCode}: ${r.stderr.trim()}`);
}

function ecKey(): string {
  return generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

const CA_EXTENSIONS = ['-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature'];

/** `<name>.key` and `<name>.crt` in `dir`, the certificate signed by `<ca>.crt` with the given extensions. */
async function signedCertificate(dir: string, name: string, subject: string, ca: string, extensions: string): Promise<void> {
  await writeFile(path.join(dir, `${name}.key`), ecKey(), { mode: 0o600 });
  await writeFile(path.join(dir, `${name}.ext`), extensions);
  await openssl(dir, 'req', '-new', '-key', `@${name}.key`, '-subj', subject, '-out', `@${name}.csr`);
  await openssl(dir, 'x509', '-req', '-in', `@${name}.csr`, '-CA', `@${ca}.crt`, '-CAkey', `@${ca}.key`, '-CAcreateserial', '-days', '365', '-out', `@${name}.crt`, '-extfile', `@${name}.ext`);
}

/**
 * A cluster CA, a serving certificate for the API server, the service-account signing key pair,
 * the front proxy's CA and client certificate (the aggregation layer) and a static token file:
 * what kubeadm would make, minus what gameday's nodes do not need (kubelet client certificates:
 * they authenticate with node tokens instead).
 */
export async function createCredentials(options: CredentialOptions): Promise<Credentials> {
  const { dir } = options;
  const file = (name: string): string => path.join(dir, name);
  await writeFile(file('ca.key'), ecKey(), { mode: 0o600 });
  await writeFile(file('front-proxy-ca.key'), ecKey(), { mode: 0o600 });
  const sa = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  await writeFile(file('sa.key'), sa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), { mode: 0o600 });
  await writeFile(file('sa.pub'), sa.publicKey.export({ type: 'spki', format: 'pem' }).toString());

  await openssl(dir, 'req', '-x509', '-new', '-key', '@ca.key', '-subj', '/CN=gameday-ca', '-days', '365', '-out', '@ca.crt', ...CA_EXTENSIONS);
  await openssl(dir, 'req', '-x509', '-new', '-key', '@front-proxy-ca.key', '-subj', '/CN=front-proxy-ca', '-days', '365', '-out', '@front-proxy-ca.crt', ...CA_EXTENSIONS);
  const names = ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'];
  await signedCertificate(dir, 'apiserver', '/CN=kube-apiserver', 'ca', servingExtensions(names, ['127.0.0.1', ...options.serverIPs]));
  const frontProxyClient = 'front-proxy-client';
  await signedCertificate(dir, frontProxyClient, `/CN=${frontProxyClient}`, 'front-proxy-ca', 'keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n');

  const user = (name: string, ...groups: string[]): TokenUser => ({ token: token(), user: name, groups });
  const admin = user('kubernetes-admin', 'system:masters');
  const controllerManager = user('system:kube-controller-manager');
  const scheduler = user('system:kube-scheduler');
  const nodes = new Map(options.nodeNames.map((n) => [n, user(`system:node:${n}`, 'system:nodes')] as const));
  const users = [admin, controllerManager, scheduler, ...nodes.values()];
  // The static token file's format: token,user,uid,"group1,group2".
  await writeFile(file('tokens.csv'), users.map((u) => `${u.token},${u.user},${u.user},"${u.groups.join(',')}"`).join('\n') + '\n', { mode: 0o600 });
  return {
    dir,
    caCert: file('ca.crt'),
    caCertPem: await readFile(file('ca.crt'), 'utf8'),
    serverCert: file('apiserver.crt'),
    serverKey: file('apiserver.key'),
    serviceAccountKey: file('sa.key'),
    serviceAccountPublicKey: file('sa.pub'),
    tokenFile: file('tokens.csv'),
    frontProxy: {
      caCert: file('front-proxy-ca.crt'),
      caCertPem: await readFile(file('front-proxy-ca.crt'), 'utf8'),
      clientCert: file(`${frontProxyClient}.crt`),
      clientKey: file(`${frontProxyClient}.key`),
      clientName: frontProxyClient,
    },
    admin,
    controllerManager,
    scheduler,
    nodes,
  };
}

function servingExtensions(dnsNames: readonly string[], ips: readonly string[]): string {
  const sans = [...dnsNames.map((n) => `DNS:${n}`), ...ips.map((a) => `IP:${a}`)].join(',');
  return `subjectAltName=${sans}\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n`;
}

/**
 * A serving certificate from the cluster CA for a server behind a Service, e.g. an aggregated API
 * server: the API server's proxy verifies it against the APIService's caBundle under the name
 * `<service>.<namespace>.svc`.
 */
export async function createServingCertificate(credentials: Credentials, name: string, dnsNames: readonly string[], ips: readonly string[]): Promise<ServingCertificate> {
  await signedCertificate(credentials.dir, name, `/CN=${name}`, 'ca', servingExtensions(dnsNames, ips));
  return {
    certPem: await readFile(path.join(credentials.dir, `${name}.crt`), 'utf8'),
    keyPem: await readFile(path.join(credentials.dir, `${name}.key`), 'utf8'),
  };
}

/** A kubeconfig for one token user; `server` is where that user reaches the API server. */
export function tokenKubeconfig(options: { readonly server: string; readonly caCertPem: string; readonly user: TokenUser; readonly context?: string }): string {
  const context = options.context ?? 'gameday-sim';
  const ca = Buffer.from(options.caCertPem).toString('base64');
  return [
    'apiVersion: v1',
    'kind: Config',
    `current-context: ${context}`,
    'clusters:',
    `- name: ${context}`,
    '  cluster:',
    `    server: ${options.server}`,
    `    certificate-authority-data: ${ca}`,
    'users:',
    `- name: ${context}`,
    '  user:',
    `    token: ${options.user.token}`,
    'contexts:',
    `- name: ${context}`,
    '  context:',
    `    cluster: ${context}`,
    `    user: ${context}`,
    '',
  ].join('\n');
}
