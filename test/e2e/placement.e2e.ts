/**
 * Placement on a cluster of two nodes (the lab started with `lab:up --nodes 2`), through the built
 * `polygraph run`: `--placement spread` puts pods on both nodes round-robin and the report says
 * which cells crossed nodes; `--placement pack` puts them all on the first node; a scenario that
 * pins pods with `node:` checks the same policies for a same-node and a cross-node pair
 * (scenarios/same-node-vs-cross-node.yaml), and every report format says where each cell ran.
 *
 * Skipped, with the reason, on a cluster with fewer than two schedulable nodes.
 */
import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { liveArgs, liveTarget, polygraph as cli, type LiveTarget } from '../support/e2e.js';

function log(message: string): void {
  console.log(`      · ${message}`);
}

interface Cell {
  from: string;
  to: string;
  probe: string;
  class: string;
  observed?: string;
  crossNode?: boolean;
}

interface RunDoc {
  passed: boolean;
  summary: { cells: number; classes: Record<string, number> };
  scenarios: {
    live?: { placement?: string; nodes?: Record<string, string> };
    steps: { cells: Cell[] }[];
  }[];
}

const verdict = (observed: string | undefined): string =>
  observed === 'allowed'
    ? 'allow'
    : observed === 'refused' || observed === 'dropped'
      ? 'deny'
      : '?';

describe('placement on two nodes (built CLI)', function () {
  this.timeout(240_000);
  let target: LiveTarget | undefined;
  let tmp = '';

  const polygraph = (...args: string[]) => cli(...args, ...liveArgs(target!));

  before(async function () {
    target = await liveTarget('placement');
    tmp = target.tmp;
    const nodes = (await target.cluster.listNodes())
      .filter((n) => n.schedulable)
      .map((n) => n.name)
      .sort();
    log(`schedulable nodes: ${nodes.join(', ')}`);
    if (nodes.length < 2) {
      log('skipped: one schedulable node (start the lab with npm run lab:up -- --nodes 2)');
      this.skip();
    }
    if (nodes[0] !== 'node1' || nodes[1] !== 'node2')
      throw new Error(
        `these tests pin pods to node1 and node2; the cluster has ${nodes.join(', ')}`,
      );
  });

  async function runJson(
    scenario: string,
    ...flags: string[]
  ): Promise<{ doc: RunDoc; stdout: string }> {
    const file = join(tmp, `${String(Date.now())}.json`);
    const r = await polygraph('run', scenario, ...flags, '--report', `json=${file}`);
    log(r.stderr.split('\n').slice(-4).join(' | '));
    expect(r.exitCode, r.stderr).to.equal(0);
    return { doc: JSON.parse(await readFile(file, 'utf8')) as RunDoc, stdout: r.stdout };
  }

  it('--placement spread: pods round-robin over node1 and node2, cells crossing nodes and cells on one node, all agreeing', async () => {
    const { doc } = await runJson('scenarios/default-deny-ingress.yaml', '--placement', 'spread');
    const live = doc.scenarios[0]!.live;
    log(`nodes ${JSON.stringify(live?.nodes)}`);
    expect(live?.placement).to.equal('spread');
    // Round-robin in topology order over the sorted schedulable nodes.
    expect(live?.nodes).to.deep.equal({
      'app/a': 'node1',
      'app/b': 'node2',
      'other/client': 'node1',
    });
    const cells = doc.scenarios[0]!.steps[0]!.cells;
    const where = Object.fromEntries(cells.map((c) => [`${c.from} -> ${c.to}`, c.crossNode]));
    expect(where).to.deep.equal({
      'app/a -> app/a': false,
      'app/a -> app/b': true,
      'app/a -> other/client': false,
      'app/b -> app/a': true,
      'app/b -> app/b': false,
      'app/b -> other/client': true,
      'other/client -> app/a': false,
      'other/client -> app/b': true,
      'other/client -> other/client': false,
    });
    expect(doc.summary.classes).to.deep.equal({ agree: 9 });
  });

  it('--placement pack: every pod on node1, no cell crosses nodes', async () => {
    const { doc } = await runJson('scenarios/default-deny-ingress.yaml', '--placement', 'pack');
    const live = doc.scenarios[0]!.live;
    expect(live?.placement).to.equal('pack');
    expect(live?.nodes).to.deep.equal({
      'app/a': 'node1',
      'app/b': 'node1',
      'other/client': 'node1',
    });
    const cells = doc.scenarios[0]!.steps[0]!.cells;
    expect(cells).to.have.length(9);
    expect(cells.filter((c) => c.crossNode !== false)).to.deep.equal([]);
    expect(doc.summary.classes).to.deep.equal({ agree: 9 });
  });

  it('pinned pods: the same policies give the same verdict on one node and across nodes, and every report says which', async () => {
    const junit = join(tmp, 'pinned.xml');
    const html = join(tmp, 'pinned.html');
    const { doc, stdout } = await runJson(
      'scenarios/same-node-vs-cross-node.yaml',
      '--report',
      `junit=${junit}`,
      '--report',
      `html=${html}`,
    );
    const live = doc.scenarios[0]!.live;
    expect(live?.nodes).to.deep.equal({
      'place/client-1': 'node1',
      'place/client-2': 'node2',
      'place/intruder-1': 'node1',
      'place/intruder-2': 'node2',
      'place/server-1': 'node1',
      'place/server-2': 'node2',
    });
    expect(doc.summary.classes).to.deep.equal({ agree: 72 });
    const cells = doc.scenarios[0]!.steps[0]!.cells;
    const cell = (probe: string, from: string, to: string): Cell => {
      const found = cells.find(
        (c) => c.probe === probe && c.from === `place/${from}` && c.to === `place/${to}`,
      );
      if (found === undefined) throw new Error(`no cell ${probe} ${from} -> ${to}`);
      return found;
    };
    // Twins: [source, same-node destination, cross-node destination, verdict of both].
    const twins: [string, string, string, string][] = [
      ['client-1', 'server-1', 'server-2', 'allow'], // ingress admits clients; egress allows servers
      ['client-2', 'server-2', 'server-1', 'allow'],
      ['intruder-1', 'server-1', 'server-2', 'deny'], // ingress of the servers
      ['intruder-2', 'server-2', 'server-1', 'deny'],
      ['client-1', 'intruder-1', 'intruder-2', 'deny'], // egress of the clients
      ['client-2', 'intruder-2', 'intruder-1', 'deny'],
      ['intruder-1', 'client-1', 'client-2', 'allow'], // clients are not isolated for ingress
      ['server-2', 'intruder-2', 'intruder-1', 'allow'], // servers are not isolated for egress
    ];
    for (const probe of ['80/TCP', '80/UDP'])
      for (const [from, same, cross, wanted] of twins) {
        const a = cell(probe, from, same);
        const b = cell(probe, from, cross);
        log(
          `${probe} ${from}: -> ${same} ${String(a.observed)} (same node), -> ${cross} ${String(b.observed)} (across)`,
        );
        expect([a.crossNode, b.crossNode], `${from} -> ${same} / ${cross}`).to.deep.equal([
          false,
          true,
        ]);
        expect([verdict(a.observed), verdict(b.observed)], `${probe} ${from}`).to.deep.equal([
          wanted,
          wanted,
        ]);
      }
    // Every cell between pods says where it ran: 36 per probe, 18 of them on one node (3 pods per node).
    expect(cells.filter((c) => c.crossNode === undefined)).to.deep.equal([]);
    expect(cells.filter((c) => c.crossNode === false)).to.have.length(36);
    // The text report lists each node's pods; JUnit counts and names them; HTML marks each cell.
    expect(stdout).to.include(
      'nodes: node1 place/client-1, place/intruder-1, place/server-1; node2 place/client-2, place/intruder-2, place/server-2',
    );
    const xml = await readFile(junit, 'utf8');
    expect(xml).to.include('across nodes: 18 of 36 cells between pods; on one node: 18');
    expect(xml).to.include('<property name="node.place/server-2" value="node2"/>');
    const page = await readFile(html, 'utf8');
    expect(page).to.include(
      'aria-label="80/TCP place/client-1 to place/server-2: agree; expected allow · model allow (port 80) · observed allowed · across nodes (node1 → node2)"',
    );
  });
});
