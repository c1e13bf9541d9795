/**
 * NetworkPolicy enforcement on the lab, observed through probes (npm run lab:up first).
 *
 * Talks to the cluster only through src/cluster (@kubernetes/client-node). Every step logs the
 * pods, the policies applied and each probe's outcome. After a policy change the suite settles by
 * probing until the expected state holds (bounded), never by sleeping.
 */
import { expect } from 'chai';
import { execa } from 'execa';
import { Cluster, type NetworkPolicyManifest, type PodInfo } from '../../src/cluster/index.js';
import type { ProbeJob, ProbeProtocol, ProbeResult } from '../../src/probe/batch-protocol.js';
import { runProbeBatch } from '../../src/probe/batch.js';
import { PROBE_CONTAINER, probePod } from '../../src/probe/probe-pod.js';
import * as lab from '../lab/lab.js';

const PORTS = [80, 81] as const;
const PROTOCOLS: readonly ProbeProtocol[] = ['TCP', 'UDP'];
const SETTLE_MS = 15_000;
/** TEST-NET-3: never assigned, and never reached — the guard (and the backstop) drop it. */
const OUTSIDE = '203.0.113.7';
const BACKSTOP_COMMENT = 'polygraph-lab e2e backstop: must stay at 0 packets';

function step(message: string): void {
  console.log(`      · ${message}`);
}

type Expect = 'allowed' | 'denied';

function verdictOf(outcome: ProbeResult['outcome']): Expect | 'error' {
  switch (outcome) {
    case 'allowed':
      return 'allowed';
    case 'refused':
    case 'dropped':
      return 'denied';
    case 'probe-error':
      return 'error';
  }
}

describe('NetworkPolicy enforcement on the lab', function () {
  const stamp = `${Date.now().toString(36)}${process.pid.toString(36)}`;
  const nsServer = `pg-e2e-srv-${stamp}`;
  const nsClient = `pg-e2e-cli-${stamp}`;
  let cluster: Cluster | undefined;
  const pods = new Map<string, PodInfo>();
  let backstopAdded = false;

  /** Probes from `from` ("ns/pod" key of `pods`), logs each, returns the results. */
  async function probe(from: string, jobs: ProbeJob[]): Promise<ProbeResult[]> {
    const source = pods.get(from);
    if (source === undefined) throw new Error(`no pod ${from}`);
    const results = await runProbeBatch(
      cluster!,
      { namespace: source.namespace, pod: source.name, container: PROBE_CONTAINER },
      jobs,
    );
    for (const r of results)
      step(`probe ${r.id}: ${r.outcome} (${String(r.elapsedMs)} ms) ${r.detail}`);
    return results;
  }

  function jobsTo(
    to: string,
    host: string,
    ports: readonly number[] = PORTS,
    protocols = PROTOCOLS,
  ): ProbeJob[] {
    return ports.flatMap((port) =>
      protocols.map((protocol) => ({
        id: `${to}:${String(port)}/${protocol}`,
        host,
        port,
        protocol,
        timeoutSeconds: 1,
      })),
    );
  }

  function ipOf(key: string): string {
    const ip = pods.get(key)?.ip;
    if (ip === undefined) throw new Error(`pod ${key} has no IP`);
    return ip;
  }

  /**
   * Probe until every job has its expected verdict (policies take effect asynchronously), then
   * assert on the last round. Bounded by SETTLE_MS.
   */
  async function expectEventually(
    from: string,
    jobs: ProbeJob[],
    expected: Record<string, Expect>,
  ): Promise<ProbeResult[]> {
    const deadline = Date.now() + SETTLE_MS;
    let round = 0;
    for (;;) {
      round++;
      step(`${from} probes, round ${String(round)}`);
      const results = await probe(from, jobs);
      const actual = Object.fromEntries(results.map((r) => [r.id, verdictOf(r.outcome)]));
      const matches = Object.entries(expected).every(([id, v]) => actual[id] === v);
      if (matches || Date.now() > deadline) {
        expect(actual).to.deep.equal(expected);
        return results;
      }
    }
  }

  function all(jobs: ProbeJob[], verdict: Expect): Record<string, Expect> {
    return Object.fromEntries(jobs.map((j) => [j.id, verdict]));
  }

  async function apply(namespace: string, policy: NetworkPolicyManifest): Promise<void> {
    await cluster!.applyNetworkPolicy(namespace, policy);
    step(`policy applied: ${namespace}/${policy.metadata.name} ${JSON.stringify(policy.spec)}`);
  }

  async function remove(namespace: string, name: string): Promise<void> {
    await cluster!.deleteNetworkPolicy(namespace, name);
    step(`policy deleted: ${namespace}/${name}`);
  }

  before(async function () {
    this.timeout(180_000);
    const status = await lab.status();
    if (!status.up) {
      throw new Error(`the lab is not up (npm run lab:up):\n${lab.formatStatus(status)}`);
    }
    if (status.enforcement !== 'on') {
      throw new Error('the lab does not enforce NetworkPolicies (npm run lab:enforcement -- on)');
    }
    const c = Cluster.connect({ kubeconfig: lab.kubeconfigPath() });
    cluster = c;
    step(`cluster ${c.server}, Kubernetes ${await c.serverVersion()}`);
    const image = await lab.probeImageRef();
    await c.createNamespace(nsServer, { 'polygraph-e2e': stamp });
    await c.createNamespace(nsClient, { 'polygraph-e2e': stamp });
    const specs: {
      namespace: string;
      name: string;
      labels: Record<string, string>;
      nodeName?: string;
    }[] = [
      { namespace: nsServer, name: 'server', labels: { app: 'server' } },
      { namespace: nsClient, name: 'client', labels: { app: 'client' } },
      { namespace: nsClient, name: 'other', labels: { app: 'other' } },
    ];
    // On a lab of two nodes, the client on the first and a pod on the second for the guard's test
    // (node2's pods' packets reach the uplink forwarded from k8s0, not from cni0).
    const [first, second] = lab.nodes();
    if (second !== undefined && first !== undefined) {
      specs[1] = { ...specs[1]!, nodeName: first.name };
      specs.push({
        namespace: nsClient,
        name: 'guarded',
        labels: { app: 'guarded' },
        nodeName: second.name,
      });
    }
    for (const s of specs) await c.createPod(probePod({ ...s, image, ports: PORTS }));
    for (const ns of [nsServer, nsClient]) {
      const names = specs.filter((s) => s.namespace === ns).map((s) => s.name);
      for (const info of await c.waitPodsReady(ns, names)) {
        const key = `${info.namespace === nsServer ? 'server-ns' : 'client-ns'}/${info.name}`;
        pods.set(key, info);
        step(
          `pod ${info.namespace}/${info.name} ${info.ip ?? '-'} on ${info.nodeName ?? '-'} labels ${JSON.stringify(info.labels)}`,
        );
      }
    }
  });

  after(async function () {
    this.timeout(180_000);
    if (backstopAdded) await removeBackstop();
    const c = cluster;
    if (c === undefined) return;
    await Promise.all(
      [nsServer, nsClient].map(async (ns) => {
        await c.deleteNamespace(ns, { wait: true });
        step(`namespace ${ns} deleted`);
      }),
    );
  });

  it('admits TCP and UDP between pods when no policy exists', async function () {
    const jobs = jobsTo('server', ipOf('server-ns/server'));
    const results = await expectEventually('client-ns/client', jobs, all(jobs, 'allowed'));
    expect(results.filter((r) => r.outcome === 'allowed')).to.have.length(jobs.length);
  });

  async function backstopArgs(): Promise<string[]> {
    return [
      '-t',
      'mangle',
      'POSTROUTING',
      '-s',
      lab.clusterCIDR(),
      '-o',
      await lab.uplink(),
      '-m',
      'comment',
      '--comment',
      BACKSTOP_COMMENT,
      '-j',
      'DROP',
    ];
  }

  async function removeBackstop(): Promise<void> {
    const [t, table, chain, ...rest] = await backstopArgs();
    await execa('iptables', ['-w', t!, table!, '-D', chain!, ...rest], { reject: false });
    backstopAdded = false;
  }

  it('keeps every pod packet on this machine (the guard drops, the backstop sees nothing)', async function () {
    const [t, table, chain, ...rest] = await backstopArgs();
    await execa('iptables', ['-w', t!, table!, '-A', chain!, ...rest]);
    backstopAdded = true;
    const guardBefore = await lab.guardPackets();
    expect(guardBefore, 'guard rule in mangle FORWARD').to.be.a('number');
    step(
      `guard counter before: ${String(guardBefore)}; backstop added after it (mangle POSTROUTING)`,
    );
    // From a pod on each node of the lab (node2's only with lab:up --nodes 2).
    const sources = [
      'client-ns/client',
      ...(pods.has('client-ns/guarded') ? ['client-ns/guarded'] : []),
    ];
    const onNodes = sources.map((source) => pods.get(source)?.nodeName);
    expect(onNodes, 'one source pod on each node').to.deep.equal(lab.nodes().map((n) => n.name));
    let before = guardBefore ?? Infinity;
    for (const source of sources) {
      const [result] = await probe(source, [
        { id: `outside:80/TCP`, host: OUTSIDE, port: 80, protocol: 'TCP', timeoutSeconds: 2 },
      ]);
      const guardAfter = await lab.guardPackets();
      const backstop = await lab.rulePackets('mangle', BACKSTOP_COMMENT);
      step(
        `from ${source} on ${pods.get(source)?.nodeName ?? '-'}: guard counter after: ${String(guardAfter)}; backstop counter: ${String(backstop)}`,
      );
      expect(result?.outcome).to.not.equal('allowed');
      expect(guardAfter).to.be.greaterThan(before);
      expect(backstop).to.equal(0);
      before = guardAfter ?? Infinity;
    }
    await removeBackstop();
  });

  it('reaches the external host on TCP and UDP', async function () {
    const [ext] = lab.externalHosts();
    if (ext === undefined) this.skip();
    step(`external host ${ext.name} ${ext.ip}`);
    const jobs = jobsTo('external', ext.ip, ext.ports);
    await expectEventually('client-ns/client', jobs, all(jobs, 'allowed'));
  });

  it('denies TCP and UDP after a default-deny ingress policy', async function () {
    await apply(nsServer, {
      metadata: { name: 'default-deny-ingress' },
      spec: { podSelector: {}, policyTypes: ['Ingress'] },
    });
    const jobs = jobsTo('server', ipOf('server-ns/server'));
    await expectEventually('client-ns/client', jobs, all(jobs, 'denied'));
    await expectEventually('client-ns/other', jobs, all(jobs, 'denied'));
  });

  it('admits again the pods an allow rule selects with namespaceSelector AND podSelector', async function () {
    await apply(nsServer, {
      metadata: { name: 'allow-client' },
      spec: {
        podSelector: { matchLabels: { app: 'server' } },
        policyTypes: ['Ingress'],
        ingress: [
          {
            from: [
              {
                namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': nsClient } },
                podSelector: { matchLabels: { app: 'client' } },
              },
            ],
          },
        ],
      },
    });
    const jobs = jobsTo('server', ipOf('server-ns/server'));
    await expectEventually('client-ns/client', jobs, all(jobs, 'allowed'));
    // Same namespace, other labels: not selected by the rule.
    await expectEventually('client-ns/other', jobs, all(jobs, 'denied'));
  });

  it('denies egress from a namespace with a default-deny egress policy', async function () {
    await remove(nsServer, 'allow-client');
    await remove(nsServer, 'default-deny-ingress');
    const jobs = jobsTo('server', ipOf('server-ns/server'));
    await expectEventually('client-ns/client', jobs, all(jobs, 'allowed'));
    await apply(nsClient, {
      metadata: { name: 'default-deny-egress' },
      spec: { podSelector: {}, policyTypes: ['Egress'] },
    });
    await expectEventually('client-ns/client', jobs, all(jobs, 'denied'));
  });

  it('admits egress to the external host only as an ipBlock rule allows', async function () {
    const [ext] = lab.externalHosts();
    if (ext === undefined) this.skip();
    await apply(nsClient, {
      metadata: { name: 'allow-external-443' },
      spec: {
        podSelector: { matchLabels: { app: 'client' } },
        policyTypes: ['Egress'],
        egress: [
          { to: [{ ipBlock: { cidr: `${ext.ip}/32` } }], ports: [{ protocol: 'TCP', port: 443 }] },
        ],
      },
    });
    const jobs = jobsTo('external', ext.ip, ext.ports);
    const expected = all(jobs, 'denied');
    expected['external:443/TCP'] = 'allowed';
    await expectEventually('client-ns/client', jobs, expected);
    // `other` is not selected by the allow rule: default-deny egress still holds for it.
    await expectEventually('client-ns/other', jobs, all(jobs, 'denied'));
  });
});
