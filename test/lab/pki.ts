/** The lab's PKI, made with openssl (ECDSA P-256: fast to generate), and its kubeconfigs. */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { API_PORT, PKI_DIR, SERVICE_CIDR, node, node2 } from './config.js';
import { run } from './util.js';

interface CertSpec {
  name: string;
  subject: string;
  usage: 'serverAuth' | 'clientAuth';
  dns?: string[];
  ips?: string[];
}

/** First address of the service range: the `kubernetes` Service's ClusterIP. */
function firstServiceIP(): string {
  const [base] = SERVICE_CIDR.split('/');
  const octets = (base ?? '').split('.').map(Number);
  octets[3] = (octets[3] ?? 0) + 1;
  return octets.join('.');
}

export const CLIENTS = {
  admin: { cn: 'polygraph-lab-admin', o: 'system:masters' },
  kubelet: { cn: `system:node:${node.name}`, o: 'system:nodes' },
  kubeletNode2: { cn: `system:node:${node2.name}`, o: 'system:nodes' },
  controllerManager: { cn: 'system:kube-controller-manager' },
  scheduler: { cn: 'system:kube-scheduler' },
  apiserverKubeletClient: { cn: 'kube-apiserver-kubelet-client', o: 'system:masters' },
  // kube-router watches pods, namespaces, policies and nodes; in a one-machine lab the admin group
  // is simpler than carrying its ClusterRole.
  kubeRouter: { cn: 'polygraph-lab:kube-router', o: 'system:masters' },
} as const;

export type Client = keyof typeof CLIENTS;

export function pkiPath(name: string): string {
  return join(PKI_DIR, name);
}

async function genKey(name: string): Promise<void> {
  await run('openssl', [
    'genpkey',
    '-algorithm',
    'EC',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-out',
    pkiPath(`${name}.key`),
  ]);
}

async function issue(spec: CertSpec): Promise<void> {
  await genKey(spec.name);
  const san = [
    ...(spec.dns ?? []).map((d) => `DNS:${d}`),
    ...(spec.ips ?? []).map((ip) => `IP:${ip}`),
  ];
  const ext = [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    `extendedKeyUsage=${spec.usage}`,
    ...(san.length > 0 ? [`subjectAltName=${san.join(',')}`] : []),
  ];
  writeFileSync(pkiPath(`${spec.name}.ext`), ext.join('\n') + '\n');
  await run('openssl', [
    'req',
    '-new',
    '-key',
    pkiPath(`${spec.name}.key`),
    '-subj',
    spec.subject,
    '-out',
    pkiPath(`${spec.name}.csr`),
  ]);
  await run('openssl', [
    'x509',
    '-req',
    '-in',
    pkiPath(`${spec.name}.csr`),
    '-CA',
    pkiPath('ca.crt'),
    '-CAkey',
    pkiPath('ca.key'),
    // Own serial per certificate: they are issued concurrently (a shared .srl file races).
    '-set_serial',
    `0x${randomBytes(8).toString('hex')}`,
    '-days',
    '365',
    '-extfile',
    pkiPath(`${spec.name}.ext`),
    '-out',
    pkiPath(`${spec.name}.crt`),
  ]);
}

/** CA, serving and client certificates, service-account key pair. */
export async function makePKI(): Promise<void> {
  mkdirSync(PKI_DIR, { recursive: true, mode: 0o700 });
  await genKey('ca');
  await run('openssl', [
    'req',
    '-x509',
    '-new',
    '-key',
    pkiPath('ca.key'),
    '-subj',
    '/CN=polygraph-lab-ca',
    '-days',
    '3650',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
    '-out',
    pkiPath('ca.crt'),
  ]);
  const specs: CertSpec[] = [
    {
      name: 'apiserver',
      subject: '/CN=kube-apiserver',
      usage: 'serverAuth',
      dns: [
        'kubernetes',
        'kubernetes.default',
        'kubernetes.default.svc',
        'kubernetes.default.svc.cluster.local',
        'localhost',
      ],
      ips: [firstServiceIP(), node.ip, '127.0.0.1'],
    },
    ...Object.entries(CLIENTS).map(([name, c]): CertSpec => {
      const o = 'o' in c ? `/O=${c.o}` : '';
      return { name, subject: `${o}/CN=${c.cn}`, usage: 'clientAuth' };
    }),
  ];
  await Promise.all([
    ...specs.map(issue),
    (async () => {
      await genKey('sa');
      await run('openssl', [
        'pkey',
        '-in',
        pkiPath('sa.key'),
        '-pubout',
        '-out',
        pkiPath('sa.pub'),
      ]);
    })(),
  ]);
}

export function apiServerURL(): string {
  return `https://${node.ip}:${API_PORT}`;
}

/** A kubeconfig with embedded credentials, so that it can be copied anywhere. */
export function kubeconfigFor(client: Client): string {
  const b64 = (file: string) => readFileSync(pkiPath(file)).toString('base64');
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: 'polygraph-lab',
        cluster: { server: apiServerURL(), 'certificate-authority-data': b64('ca.crt') },
      },
    ],
    users: [
      {
        name: client,
        user: {
          'client-certificate-data': b64(`${client}.crt`),
          'client-key-data': b64(`${client}.key`),
        },
      },
    ],
    contexts: [{ name: 'polygraph-lab', context: { cluster: 'polygraph-lab', user: client } }],
    'current-context': 'polygraph-lab',
  });
}

export function writeKubeconfig(client: Client, path: string): string {
  writeFileSync(path, kubeconfigFor(client), { mode: 0o600 });
  return path;
}
