/**
 * The lab's own promises (npm run lab:up first): nothing of the lab's daemons or of its external
 * host leaves this machine (the host guard), and enforcement can be switched off and on again on
 * the running lab (a cluster that ignores NetworkPolicies, for the enforcement canary).
 *
 * Probes between pods go through src/cluster and src/probe/batch.ts, as in netpol.e2e.ts. The host
 * guard's test sends exactly one datagram per case, to TEST-NET-3, with a backstop rule in place.
 */
import { expect } from 'chai';
import { execa } from 'execa';
import { Cluster, type PodInfo } from '../../src/cluster/index.js';
import type { ProbeJob, ProbeResult } from '../../src/probe/batch-protocol.js';
import { runProbeBatch } from '../../src/probe/batch.js';
import { probeContainer, probePod } from '../../src/probe/probe-pod.js';
import * as lab from '../lab/lab.js';

/** TEST-NET-3: never assigned, and never reached — the host guard (and the backstop) drop it. */
const OUTSIDE = '203.0.113.8';
const BACKSTOP_COMMENT = 'polygraph-lab e2e host backstop: must stay at 0 packets';
const PORTS = [80] as const;
const SETTLE_MS = 15_000;

function step(message: string): void {
  console.log(`      · ${message}`);
}

async function backstopArgs(): Promise<string[]> {
  return [
    '-t',
    'mangle',
    'POSTROUTING',
    '-d',
    `${OUTSIDE}/32`,
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

describe('The lab', function () {
  before(async function () {
    const status = await lab.status();
    if (!status.up) {
      throw new Error(`the lab is not up (npm run lab:up):\n${lab.formatStatus(status)}`);
    }
  });

  describe('host guard', function () {
    let backstopAdded = false;

    /**
     * A backstop after the guards in the packet path (mangle POSTROUTING): it drops anything to
     * OUTSIDE whatever its origin, so even a broken guard (or a process not in the cgroup) cannot
     * let the test's packet out. It must see nothing.
     */
    before(async function () {
      const [t, table, chain, ...rest] = await backstopArgs();
      await execa('iptables', ['-w', t!, table!, '-A', chain!, ...rest]);
      backstopAdded = true;
      step(`backstop added: mangle POSTROUTING -d ${OUTSIDE} → uplink DROP`);
    });

    after(async function () {
      if (!backstopAdded) return;
      const [t, table, chain, ...rest] = await backstopArgs();
      await execa('iptables', ['-w', t!, table!, '-D', chain!, ...rest], { reject: false });
      backstopAdded = false;
    });

    /** One UDP datagram to OUTSIDE, from a process placed in the lab's cgroup like every daemon. */
    async function sendOneDatagram(netns?: string): Promise<string> {
      const script = 'cat /proc/self/cgroup; printf x | exec /usr/bin/nc -u -w 1 "$0" 80';
      const result = await lab.runInLab('/bin/sh', ['-c', script, OUTSIDE], { netns });
      step(
        `sent one datagram to ${OUTSIDE}:80${netns === undefined ? '' : ` from netns ${netns}`}: exit ${String(result.exitCode)} ${result.stderr.trim()}`,
      );
      return result.stdout;
    }

    it("drops what the lab's cgroup sends to the uplink (the guard counts it, the backstop sees nothing)", async function () {
      const { path } = lab.labCgroup();
      const before = await lab.hostGuardPackets();
      expect(before, 'host guard rule in mangle OUTPUT').to.be.a('number');
      step(`host guard counter before: ${String(before)} (cgroup ${path})`);
      const cgroups = await sendOneDatagram();
      // cgroup2's line in /proc/self/cgroup: the process was in the lab's cgroup when it sent.
      expect(cgroups.split('\n')).to.include(`0::/${path}`);
      const after = await lab.hostGuardPackets();
      const backstop = await lab.rulePackets('mangle', BACKSTOP_COMMENT);
      step(`host guard counter after: ${String(after)}; backstop counter: ${String(backstop)}`);
      expect(after).to.be.greaterThan(before ?? Infinity);
      expect(backstop).to.equal(0);
    });

    it('drops what the external host sends to the uplink (the guard counts it, the backstop sees nothing)', async function () {
      const [ext] = lab.externalHosts();
      if (ext === undefined) this.skip();
      const before = await lab.externalGuardPackets();
      expect(before, 'external-host guard rule in mangle FORWARD').to.be.a('number');
      step(`external-host guard counter before: ${String(before)}`);
      await sendOneDatagram(ext.name);
      const after = await lab.externalGuardPackets();
      const backstop = await lab.rulePackets('mangle', BACKSTOP_COMMENT);
      step(
        `external-host guard counter after: ${String(after)}; backstop counter: ${String(backstop)}`,
      );
      expect(after).to.be.greaterThan(before ?? Infinity);
      expect(backstop).to.equal(0);
    });
    it("drops what node2's daemons send to the uplink (the node guard counts it, the backstop sees nothing)", async function () {
      const second = lab.nodes()[1];
      if (second?.netns === undefined) {
        step('one node: nothing of a second node to guard (lab:up --nodes 2)');
        this.skip();
      }
      const before = await lab.nodeGuardPackets();
      expect(before, 'node guard rule in mangle FORWARD').to.be.a('number');
      step(`node guard counter before: ${String(before)}`);
      // Exactly as node2's containerd, kubelet and kube-router run: in the lab's cgroup and netns.
      const cgroups = await sendOneDatagram(second.netns);
      expect(cgroups.split('\n')).to.include(`0::/${lab.labCgroup().path}`);
      const after = await lab.nodeGuardPackets();
      const backstop = await lab.rulePackets('mangle', BACKSTOP_COMMENT);
      step(`node guard counter after: ${String(after)}; backstop counter: ${String(backstop)}`);
      expect(after).to.be.greaterThan(before ?? Infinity);
      expect(backstop).to.equal(0);
    });
  });

  describe('enforcement switch', function () {
    const stamp = `${Date.now().toString(36)}${process.pid.toString(36)}`;
    const ns = `pg-e2e-enf-${stamp}`;
    let cluster: Cluster | undefined;
    const pods = new Map<string, PodInfo>();

    before(async function () {
      this.timeout(180_000);
      const status = await lab.status();
      if (status.enforcement !== 'on') await lab.setEnforcement(true);
      const c = Cluster.connect({ kubeconfig: lab.kubeconfigPath() });
      cluster = c;
      const image = await lab.probeImageRef();
      await c.createNamespace(ns, { 'polygraph-e2e': stamp });
      for (const name of ['server', 'client']) {
        await c.createPod(
          probePod({ namespace: ns, name, labels: { app: name }, image, ports: PORTS }),
        );
      }
      for (const info of await c.waitPodsReady(ns, ['server', 'client'])) {
        pods.set(info.name, info);
        step(`pod ${info.namespace}/${info.name} ${info.ip ?? '-'}`);
      }
    });

    after(async function () {
      this.timeout(180_000);
      // The rest of the suite needs enforcement, whatever happened here.
      if ((await lab.status()).enforcement !== 'on') await lab.setEnforcement(true);
      if (cluster !== undefined) await cluster.deleteNamespace(ns, { wait: true });
      step(`namespace ${ns} deleted`);
    });

    async function probeServer(): Promise<ProbeResult[]> {
      const client = pods.get('client');
      const server = pods.get('server');
      if (client?.ip === undefined || server?.ip === undefined) throw new Error('pods missing');
      const jobs: ProbeJob[] = (['TCP', 'UDP'] as const).map((protocol) => ({
        id: `server:80/${protocol}`,
        host: server.ip!,
        port: 80,
        protocol,
        timeoutSeconds: 1,
      }));
      const results = await runProbeBatch(
        cluster!,
        { namespace: ns, pod: client.name, container: probeContainer(PORTS) },
        jobs,
      );
      for (const r of results)
        step(`probe ${r.id}: ${r.outcome} (${String(r.elapsedMs)} ms) ${r.detail}`);
      return results;
    }

    /** Probe until every probe has the verdict (bounded), then assert on the last round. */
    async function expectEventually(verdict: 'allowed' | 'denied'): Promise<number> {
      const deadline = Date.now() + SETTLE_MS;
      for (let round = 1; ; round++) {
        const results = await probeServer();
        const verdicts = results.map((r) =>
          r.outcome === 'allowed' ? 'allowed' : r.outcome === 'probe-error' ? 'error' : 'denied',
        );
        if (verdicts.every((v) => v === verdict) || Date.now() > deadline) {
          expect(verdicts).to.deep.equal(results.map(() => verdict));
          step(`every probe ${verdict} (round ${String(round)})`);
          return round;
        }
      }
    }

    it('with enforcement off a deny-all policy blocks nothing; on again, it blocks', async function () {
      await cluster!.applyNetworkPolicy(ns, {
        metadata: { name: 'default-deny-ingress' },
        spec: { podSelector: {}, policyTypes: ['Ingress'] },
      });
      step(`policy applied: ${ns}/default-deny-ingress (ingress deny-all)`);
      await expectEventually('denied');

      let start = performance.now();
      await lab.setEnforcement(false);
      step(`enforcement off in ${(performance.now() - start).toFixed(0)} ms`);
      const off = await lab.status();
      expect(off.enforcement).to.equal('off');
      expect(off.up, lab.formatStatus(off)).to.equal(true);
      expect(off.components.find((c) => c.name === 'kube-router')?.alive).to.equal(false);
      expect(await cluster!.listNetworkPolicies(ns)).to.include('default-deny-ingress');
      await expectEventually('allowed');

      start = performance.now();
      await lab.setEnforcement(true);
      step(`enforcement on (kube-router synced) in ${(performance.now() - start).toFixed(0)} ms`);
      const on = await lab.status();
      expect(on.enforcement).to.equal('on');
      expect(on.up, lab.formatStatus(on)).to.equal(true);
      await expectEventually('denied');
    });
  });
});
