import { expect } from 'chai';
import { execa } from 'execa';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../../src/domain/errors.js';
import { formatIssue } from '../../src/domain/issue.js';
import { loadManifestText } from '../../src/manifest/load.js';
import { NetworkModel } from '../../src/model/engine.js';
import { explainFlow } from '../../src/model/explain.js';

/*
 * ClusterNetworkPolicy (v1alpha2, v1beta1), AdminNetworkPolicy and BaselineAdminNetworkPolicy
 * (v1alpha1): validation as the CRDs of sigs.k8s.io/network-policy-api do it (OpenAPI bounds and
 * CEL rules), the warnings for what the API leaves undefined, and the provenance of verdicts.
 * The semantics are covered by the hand-written scenarios of test/cases/cluster-policy.
 */

function problems(text: string): string[] {
  try {
    loadManifestText(text, 'bad.yaml');
    return [];
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    return error.issues.map((i) => formatIssue(i).replace(/^bad\.yaml:/, ''));
  }
}

const cnp = (spec: string, version = 'v1beta1', name = 'p'): string =>
  `apiVersion: policy.networking.k8s.io/${version}\nkind: ClusterNetworkPolicy\nmetadata:\n  name: ${name}\nspec:\n${spec}`;

const TOPOLOGY = `apiVersion: v1
kind: Namespace
metadata: {name: x, labels: {ns: x}}
---
apiVersion: v1
kind: Namespace
metadata: {name: "y", labels: {ns: "y"}}
---
apiVersion: v1
kind: Pod
metadata: {name: a, namespace: x, labels: {app: a}}
spec: {containers: [{name: c, image: i, ports: [{containerPort: 80}]}]}
status: {podIP: 10.0.0.1}
---
apiVersion: v1
kind: Pod
metadata: {name: b, namespace: "y", labels: {app: b}}
spec: {containers: [{name: c, image: i, ports: [{containerPort: 80}]}]}
status: {podIP: 10.0.1.1}
`;

function model(policies: string): NetworkModel {
  return new NetworkModel(loadManifestText(`${TOPOLOGY}---\n${policies}`, 'in.yaml').world);
}

const HTTP = { port: 80, protocol: 'TCP' as const };

describe('cluster policies: validation (what the CRDs reject)', () => {
  it('accepts a valid v1beta1 and v1alpha2 ClusterNetworkPolicy', () => {
    const spec =
      '  tier: Admin\n  priority: 0\n  subject: {namespaces: {}}\n  ingress:\n    - action: Deny\n      from: [{namespaces: {}}]\n';
    expect(problems(cnp(spec))).to.deep.equal([]);
    expect(problems(cnp(spec, 'v1alpha2'))).to.deep.equal([]);
  });

  it('reports every problem at once, each at its line and column', () => {
    const found = problems(
      cnp(
        [
          '  tier: Middle',
          '  priority: 1001',
          '  subject: {namespaces: {}, pods: {podSelector: {}}}',
          '  egress:',
          '    - action: Allow',
          '      to: [{networks: ["10.0.0.1/8"]}]',
          '      protocols:',
          '        - tcp: {destinationPort: {range: {start: 90, end: 80}}}',
          '    - action: Deny',
          '      to: []',
          '',
        ].join('\n'),
      ),
    );
    expect(found).to.deep.equal([
      '6:3: ClusterNetworkPolicy p: spec.tier: unsupported value "Middle": expected "Admin" or "Baseline" (NetworkPolicy is the tier between them)',
      '7:3: ClusterNetworkPolicy p: spec.priority: must be between 0 and 1000, inclusive (got 1001)',
      '8:3: ClusterNetworkPolicy p: spec.subject: subject: exactly one field may be set, got namespaces and pods',
      '10:7: ClusterNetworkPolicy p: spec.egress[0].action: unsupported value "Allow": expected one of Accept, Deny, Pass (v1alpha1 said Allow; ClusterNetworkPolicy says Accept)',
      '11:24: ClusterNetworkPolicy p: spec.egress[0].to[0].networks[0]: "10.0.0.1/8" has host bits set: write the network address (Invalid CIDR format provided)',
      '13:35: ClusterNetworkPolicy p: spec.egress[0].protocols[0].tcp.destinationPort.range: Start port must be less than End port (start 90, end 80)',
      '15:7: ClusterNetworkPolicy p: spec.egress[1].to: must have at least 1 item (got 0)',
    ]);
  });

  it('requires tier, priority and subject, and exactly one subject field', () => {
    expect(problems(cnp('  subject: {}\n'))).to.deep.equal([
      '5:1: ClusterNetworkPolicy p: spec.tier: required: Admin or Baseline',
      '5:1: ClusterNetworkPolicy p: spec.priority: required: 0 to 1000 (lower first)',
      '6:3: ClusterNetworkPolicy p: spec.subject: exactly one of namespaces or pods must be set',
    ]);
  });

  it('bounds rules at 25 per direction and peers and protocols at 25 per rule', () => {
    const rules = Array.from(
      { length: 26 },
      () => '    - {action: Deny, from: [{namespaces: {}}]}',
    );
    const found = problems(
      cnp(
        `  tier: Admin\n  priority: 1\n  subject: {namespaces: {}}\n  ingress:\n${rules.join('\n')}\n`,
      ),
    );
    expect(found).to.deep.equal([
      '9:3: ClusterNetworkPolicy p: spec.ingress: must have at most 25 items (got 26)',
    ]);
    const peers = Array.from({ length: 26 }, () => '{namespaces: {}}').join(', ');
    expect(
      problems(
        cnp(
          `  tier: Admin\n  priority: 1\n  subject: {namespaces: {}}\n  ingress:\n    - action: Deny\n      from: [${peers}]\n`,
        ),
      ),
    ).to.deep.equal([
      '11:7: ClusterNetworkPolicy p: spec.ingress[0].from: must have at most 25 items (got 26)',
    ]);
  });

  it('ingress peers are namespaces or pods only; a peer sets one field; a port needs a number or range', () => {
    const found = problems(
      cnp(
        [
          '  tier: Baseline',
          '  priority: 5',
          '  subject: {pods: {podSelector: {}}}',
          '  ingress:',
          '    - action: Accept',
          '      from: [{networks: ["10.0.0.0/8"]}, {namespaces: {}, pods: {podSelector: {}}}]',
          '      protocols: [{tcp: {}}, {udp: {destinationPort: {number: 0}}}, {sctp: {destinationPort: {number: 1}}, destinationNamedPort: x}]',
          '',
        ].join('\n'),
      ),
    );
    expect(found).to.deep.equal([
      '11:15: ClusterNetworkPolicy p: spec.ingress[0].from[0].networks: unknown field "networks" (expected one of: namespaces, pods)',
      '11:42: ClusterNetworkPolicy p: spec.ingress[0].from[1]: peer: exactly one field may be set, got namespaces and pods',
      '12:20: ClusterNetworkPolicy p: spec.ingress[0].protocols[0].tcp.destinationPort: required: tcp needs a destinationPort (number or range)',
      '12:55: ClusterNetworkPolicy p: spec.ingress[0].protocols[1].udp.destinationPort.number: must be between 1 and 65535, inclusive (got 0)',
      '12:69: ClusterNetworkPolicy p: spec.ingress[0].protocols[2]: protocol: exactly one field may be set, got sctp and destinationNamedPort',
    ]);
  });

  it('rejects a named port next to a networks, nodes or domainNames peer (the CEL rule)', () => {
    expect(
      problems(
        cnp(
          '  tier: Admin\n  priority: 1\n  subject: {namespaces: {}}\n  egress:\n    - action: Accept\n      to: [{nodes: {}}]\n      protocols: [{destinationNamedPort: http}]\n',
        ),
      ),
    ).to.deep.equal([
      '10:7: ClusterNetworkPolicy p: spec.egress[0]: networks/nodes/domainNames peer cannot be set with namedPorts since there are no namedPorts for networks/nodes/domainNames',
    ]);
  });

  it('validates domain names and CIDRs like the CRD (pattern, no duplicates, no leading zeros)', () => {
    expect(
      problems(
        cnp(
          '  tier: Admin\n  priority: 1\n  subject: {namespaces: {}}\n  egress:\n    - action: Accept\n      to: [{domainNames: ["*.example.com", "a*.example.com", "*.example.com"]}, {networks: ["010.0.0.0/8", "fd00::/8"]}]\n',
        ),
      ),
    ).to.deep.equal([
      '11:44: ClusterNetworkPolicy p: spec.egress[0].to[0].domainNames[1]: "a*.example.com" is not a valid domain name (an exact name, or "*." followed by one)',
      '11:62: ClusterNetworkPolicy p: spec.egress[0].to[0].domainNames[2]: duplicate value "*.example.com"',
      '11:93: ClusterNetworkPolicy p: spec.egress[0].to[1].networks[0]: "010.0.0.0/8" is not a valid CIDR (expected e.g. 10.0.0.0/8 or fd00::/8)',
    ]);
  });

  it('v1alpha1: ANP says Allow and has ports; BANP is named default, has no Pass and no domainNames', () => {
    const anp = `apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: a}
spec:
  priority: 3
  subject: {pods: {podSelector: {}}}
  ingress:
    - action: Accept
      from: [{namespaces: {}}]
      ports: [{portNumber: {port: 80}}, {portRange: {protocol: UDP, start: 1, end: 2}}, {namedPort: http}]
`;
    const banp = `apiVersion: policy.networking.k8s.io/v1alpha1
kind: BaselineAdminNetworkPolicy
metadata: {name: mine}
spec:
  subject: {namespaces: {}}
  egress:
    - action: Pass
      to: [{domainNames: [example.com]}]
`;
    expect(problems(`${anp}---\n${banp}`)).to.deep.equal([
      '6:13: AdminNetworkPolicy a: spec.subject.pods.namespaceSelector: required ({} selects every namespace)',
      '8:7: AdminNetworkPolicy a: spec.ingress[0].action: unsupported value "Accept": expected one of Allow, Deny, Pass (AdminNetworkPolicy v1alpha1 says Allow)',
      '14:12: BaselineAdminNetworkPolicy mine: metadata.name: Only one baseline admin network policy with metadata.name="default" can be created in the cluster (got "mine")',
      '18:7: BaselineAdminNetworkPolicy mine: spec.egress[0].action: unsupported value "Pass": expected one of Allow, Deny (a BaselineAdminNetworkPolicy has no Pass: there is no tier after it)',
      '19:13: BaselineAdminNetworkPolicy mine: spec.egress[0].to[0].domainNames: unknown field "domainNames" (expected one of: namespaces, pods, nodes, networks)',
    ]);
  });

  it('names the API versions each kind is served in', () => {
    expect(
      problems(cnp('  tier: Admin\n  priority: 1\n  subject: {namespaces: {}}\n', 'v1alpha1')),
    ).to.deep.equal([
      '1:1: ClusterNetworkPolicy p: apiVersion: expected policy.networking.k8s.io/v1beta1 or policy.networking.k8s.io/v1alpha2 for a ClusterNetworkPolicy, got the string "policy.networking.k8s.io/v1alpha1" (v1alpha1 has AdminNetworkPolicy and BaselineAdminNetworkPolicy instead)',
    ]);
  });

  it('the CLI exits 2 for a bad ClusterNetworkPolicy, naming file and line', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'polygraph-cnp-'));
    const file = join(dir, 'bad.yaml');
    await writeFile(file, cnp('  tier: Admin\n  priority: -1\n  subject: {namespaces: {}}\n'));
    const r = await execa('npx', ['tsx', 'src/cli/main.ts', 'model', '-f', file], {
      reject: false,
    });
    expect(r.exitCode).to.equal(2);
    expect(r.stderr).to.include(
      `${file}:7:3: ClusterNetworkPolicy p: spec.priority: must be between 0 and 1000, inclusive (got -1)`,
    );
  });
});

describe('cluster policies: warnings and provenance', () => {
  it('warns about equal priorities in one tier that could match the same connection, naming both', () => {
    const m = model(
      cnp(
        '  tier: Admin\n  priority: 7\n  subject: {namespaces: {}}\n  ingress: [{action: Deny, from: [{namespaces: {}}]}]\n',
        'v1beta1',
        'one',
      ) +
        '---\n' +
        cnp(
          '  tier: Admin\n  priority: 7\n  subject: {namespaces: {matchLabels: {ns: "y"}}}\n  ingress: [{action: Accept, from: [{namespaces: {}}]}]\n',
          'v1beta1',
          'two',
        ) +
        '---\n' +
        cnp(
          '  tier: Baseline\n  priority: 7\n  subject: {namespaces: {}}\n  ingress: [{action: Accept, from: [{namespaces: {}}]}]\n',
          'v1beta1',
          'three',
        ),
    );
    expect(m.warnings).to.deep.equal([
      'ClusterNetworkPolicy/one and ClusterNetworkPolicy/two are both Admin tier priority 7 and could match the same ingress connections (both select y/b): the API leaves undefined which one applies; the model evaluates ClusterNetworkPolicy/one first (by name)',
    ]);
  });

  it('does not warn when equal priorities select disjoint pods', () => {
    const m = model(
      cnp(
        '  tier: Admin\n  priority: 7\n  subject: {namespaces: {matchLabels: {ns: x}}}\n  ingress: [{action: Deny, from: [{namespaces: {}}]}]\n',
        'v1beta1',
        'one',
      ) +
        '---\n' +
        cnp(
          '  tier: Admin\n  priority: 7\n  subject: {namespaces: {matchLabels: {ns: "y"}}}\n  ingress: [{action: Accept, from: [{namespaces: {}}]}]\n',
          'v1beta1',
          'two',
        ),
    );
    expect(m.warnings).to.deep.equal([]);
  });

  it('a verdict names the tier, policy, priority, rule, its name and action', () => {
    const m = model(
      cnp(
        '  tier: Admin\n  priority: 12\n  subject: {namespaces: {matchLabels: {ns: "y"}}}\n  ingress:\n    - {name: from-x, action: Deny, from: [{namespaces: {matchLabels: {ns: x}}}]}\n',
      ),
    );
    const v = m.verdict('x/a', 'y/b', HTTP);
    expect('verdict' in v && v.verdict).to.equal('deny');
    expect(v.reason).to.equal(
      'denied: ingress denied by Admin tier ClusterNetworkPolicy/p (priority 12) spec.ingress[0] "from-x" (Deny)',
    );
  });

  it('a verdict names the Pass rules it went through and the domain names the model cannot resolve', () => {
    const m = model(
      cnp(
        '  tier: Admin\n  priority: 1\n  subject: {namespaces: {matchLabels: {ns: x}}}\n  egress:\n    - {action: Accept, to: [{domainNames: [db.example.com]}]}\n    - {action: Pass, to: [{namespaces: {}}]}\n',
      ),
    );
    const v = m.verdict('x/a', 'y/b', HTTP);
    expect('verdict' in v && v.verdict).to.equal('allow');
    expect(v.reason).to.equal(
      'allowed: egress allowed by default: no NetworkPolicy selects x/a for Egress (passed on by Admin tier ClusterNetworkPolicy/p (priority 1) spec.egress[1] (Pass) to the NetworkPolicy tier; the model cannot resolve domain names: Admin tier ClusterNetworkPolicy/p (priority 1) spec.egress[0] (Accept) matched nothing); no policy selects y/b for Ingress',
    );
  });

  it('v1alpha1 verdicts say Allow, as the policy does', () => {
    const m = model(`apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: allow-x}
spec:
  priority: 4
  subject: {namespaces: {}}
  ingress: [{action: Allow, from: [{namespaces: {matchLabels: {ns: x}}}]}]
`);
    const v = m.verdict('x/a', 'y/b', HTTP);
    expect(v.reason).to.equal(
      'allowed: no policy selects x/a for Egress; ingress accepted by Admin tier AdminNetworkPolicy/allow-x (priority 4) spec.ingress[0] (Allow)',
    );
  });

  it('explain walks the tiers in order and marks what was not reached', () => {
    const m = model(
      cnp(
        '  tier: Admin\n  priority: 1\n  subject: {namespaces: {matchLabels: {ns: "y"}}}\n  ingress: [{action: Deny, from: [{namespaces: {}}]}]\n',
        'v1beta1',
        'first',
      ) +
        '---\n' +
        cnp(
          '  tier: Baseline\n  priority: 1\n  subject: {namespaces: {}}\n  ingress: [{action: Accept, from: [{namespaces: {}}]}]\n',
          'v1beta1',
          'last',
        ),
    );
    const x = explainFlow(m, 'x/a', 'y/b', HTTP);
    const ingress = x.sides[1];
    expect(ingress?.tiers?.map((t) => [t.tier, t.outcome])).to.deep.equal([
      [
        'Admin',
        'decided by Admin tier ClusterNetworkPolicy/first (priority 1) spec.ingress[0] (Deny): denied',
      ],
      ['NetworkPolicy', 'not reached'],
      ['Baseline', 'not reached'],
    ]);
    expect(ingress?.decidedBy).to.equal('ClusterNetworkPolicy/first spec.ingress[0]');
    const egress = x.sides[0];
    expect(egress?.tiers?.map((t) => t.outcome)).to.deep.equal([
      'no rule matches: on to the next tier',
      'no NetworkPolicy selects x/a for Egress: on to the Baseline tier',
      'no rule matches: the default applies, allowed',
    ]);
  });
});
