/**
 * Held connections on the lab (docs/RUN.md "Held connections", docs/LAB.md "Connections already
 * open when a deny lands"): what kube-router v2.1.0 does to connections that are open when a
 * deny lands, measured through the built CLI; the hold client's own outcomes against rules the
 * test inserts itself; and a run interrupted while it holds connections leaves nothing behind.
 * The expected outcomes are written by hand from the measurements and kube-router's source.
 */
import { expect } from 'chai';
import { execa, execaSync } from 'execa';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Cluster } from '../../src/cluster/index.js';
import { loadScenario } from '../../src/dsl/load.js';
import { clusterBackend } from '../../src/engine/live-cluster.js';
import { runScenario } from '../../src/engine/run.js';
import * as lab from '../lab/lab.js';
import {
  KUBECONFIG,
  liveArgs,
  liveTarget,
  namespacesLeft,
  polygraph,
  type LiveTarget,
} from '../support/e2e.js';
import { ROOT } from '../support/scenarios.js';

function log(message: string): void {
  console.log(`      · ${message}`);
}

interface HeldDoc {
  passed: boolean;
  scenarios: {
    live?: { placement?: string; nodes?: Record<string, string> };
    steps: {
      name: string;
      summary: { classes: Record<string, number> };
      held?: {
        from: string;
        to: string;
        probe: string;
        observed?: string;
        class: string;
        detail?: string;
      }[];
    }[];
  }[];
}

/**
 * kube-router v2.1.0 on the lab: every held connection stays open, whichever side the new deny
 * is on and whichever direction it denies (measured; docs/LAB.md explains why).
 */
const MEASURED: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  'ingress deny on the destination': { '80/TCP': 'open', '80/UDP': 'open' },
  'egress deny on the source': { '80/TCP': 'open', '80/UDP': 'open' },
  "ingress deny on the source (the replies' direction)": { '80/TCP': 'open', '80/UDP': 'open' },
  "egress deny on the destination (the replies' direction)": { '80/TCP': 'open', '80/UDP': 'open' },
};

describe('held connections on the live cluster', function () {
  this.timeout(300_000);
  const kubeconfig = KUBECONFIG;
  let target: LiveTarget | undefined;
  let image = '';
  let cluster: Cluster | undefined;
  let tmp = '';
  const noneLeft = (boundMs?: number) => namespacesLeft(cluster!, boundMs);

  before(async function () {
    target = await liveTarget('held');
    ({ image, cluster, tmp } = target);
  });

  it('a new deny on ingress and on egress, on either side of the flow, TCP and UDP: kube-router keeps every held connection open (across nodes on a two-node cluster)', async function () {
    const report = join(tmp, 'held.json');
    const r = await polygraph(
      'run',
      'scenarios/held-connections.yaml',
      ...liveArgs(target!),
      '--placement',
      'spread',
      '--report',
      `json=${report}`,
    );
    log(r.stderr.split('\n').slice(-3).join(' | '));
    const doc = JSON.parse(await readFile(report, 'utf8')) as HeldDoc;
    // Spread over two nodes, the client and the server are on different nodes: every held
    // connection crosses nodes (docs/LAB.md has both: one node and two).
    const nodes = doc.scenarios[0]?.live?.nodes ?? {};
    log(`placement ${doc.scenarios[0]?.live?.placement ?? '?'}: ${JSON.stringify(nodes)}`);
    const schedulable = (await cluster!.listNodes()).filter((n) => n.schedulable);
    if (schedulable.length >= 2) expect(nodes['x/client']).to.not.equal(nodes['x/server']);
    const seen: Record<string, Record<string, string>> = {};
    for (const step of doc.scenarios[0]!.steps) {
      if (step.held === undefined) continue;
      seen[step.name] = Object.fromEntries(step.held.map((h) => [h.probe, h.observed ?? '?']));
      for (const h of step.held)
        log(`${step.name}: ${h.probe} ${h.observed ?? '?'} — ${h.detail ?? ''}`);
      // The fresh table of the step shows the new deny: the held connections are not the table.
      expect(step.summary.classes, step.name).to.deep.equal({ agree: 8 });
    }
    expect(seen).to.deep.equal(MEASURED);
    expect(r.exitCode, r.stderr).to.equal(0);
    expect(doc.passed).to.equal(true);
    expect(await noneLeft(), 'left after the run').to.deep.equal([]);
  });

  it("the hold client tells open from dropped from reset: connections cut by the test's own rules", async function () {
    if (kubeconfig !== lab.kubeconfigPath()) this.skip(); // inserts rules on the lab's node
    const scenario = await loadScenario(join(ROOT, 'test/e2e/fixtures/held-control.yaml'));
    const rules = [
      ['-p', 'tcp', '--dport', '80', '-j', 'DROP'],
      ['-p', 'udp', '--dport', '80', '-j', 'DROP'],
      ['-p', 'tcp', '--dport', '81', '-j', 'REJECT', '--reject-with', 'tcp-reset'],
      ['-p', 'udp', '--dport', '81', '-j', 'REJECT', '--reject-with', 'icmp-port-unreachable'],
    ].map((rule) => [
      '-s',
      lab.podCIDR(),
      '-d',
      lab.podCIDR(),
      ...rule,
      '-m',
      'comment',
      '--comment',
      'polygraph-held-e2e',
    ]);
    let inserted = 0;
    try {
      const result = await runScenario(scenario, clusterBackend(cluster!), {
        image,
        // Every pod on the first node (node1, the host's network namespace), where the rules go:
        // on a two-node lab, node2 forwards in a namespace of its own.
        placement: 'pack',
        onEvent: (event) => {
          // Once the step's table was probed (its actions are done), before the held test.
          if (event.kind !== 'probes' || inserted > 0) return;
          for (const rule of rules) {
            execaSync('iptables', ['-w', '-I', 'FORWARD', '1', ...rule]);
            inserted++;
          }
        },
      });
      const held = result.steps[0]?.held ?? [];
      for (const h of held)
        log(
          `${String(h.probe.port)}/${h.probe.protocol}: ${h.observed ?? '?'} — ${h.observedDetail ?? ''}`,
        );
      expect(
        held.map((h) => [`${String(h.probe.port)}/${h.probe.protocol}`, h.observed]),
      ).to.deep.equal([
        ['80/TCP', 'dropped'],
        ['80/UDP', 'dropped'],
        ['81/TCP', 'reset'],
        ['81/UDP', 'reset'],
      ]);
      expect(held.map((h) => h.class)).to.deep.equal(['agree', 'agree', 'agree', 'agree']);
    } finally {
      for (const rule of rules.slice(0, inserted))
        await execa('iptables', ['-w', '-D', 'FORWARD', ...rule], { reject: false });
    }
    expect(await noneLeft(), 'left after the run').to.deep.equal([]);
  });

  it('Ctrl-C while connections are held: the run ends with exit 3 and leaves nothing behind', async function () {
    const child = polygraph(
      'run',
      'scenarios/held-connections.yaml',
      '--kubeconfig',
      kubeconfig,
      '--image',
      image,
      '--skip-canary',
    );
    await new Promise<void>((resolve) => {
      child.stderr.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('holding 2 connections')) resolve();
      });
    });
    child.kill('SIGINT');
    const r = await child;
    log(r.stderr.split('\n').slice(-2).join(' | '));
    expect(r.exitCode).to.equal(3);
    expect(await noneLeft(), 'left after the interrupted run').to.deep.equal([]);
  });
});
