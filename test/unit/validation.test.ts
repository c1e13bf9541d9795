import { expect } from 'chai';
import { InputError } from '../../src/domain/errors.js';
import { formatIssue } from '../../src/domain/issue.js';
import { loadManifestText } from '../../src/manifest/load.js';

/** The issues (as `line:col path: message`) of loading `text`, or [] when it loads. */
function problems(text: string): string[] {
  try {
    loadManifestText(text, 'bad.yaml');
    return [];
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    return error.issues.map((i) => formatIssue(i).replace(/^bad\.yaml:/, ''));
  }
}

const policy = (spec: string, meta = 'name: p\n  namespace: x'): string =>
  `apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  ${meta}\nspec:\n${spec}`;

describe('manifest validation (what the API server would reject)', () => {
  it('reports invalid YAML with its line', () => {
    const found = problems('kind: Pod\nmetadata: {name: a\n');
    expect(found).to.have.length.greaterThan(0);
    expect(found[0]).to.match(/^\d+:\d+: invalid YAML/);
  });

  it('rejects a CIDR that does not parse, at the cidr line', () => {
    const found = problems(
      policy(
        '  podSelector: {}\n  ingress:\n    - from:\n        - ipBlock:\n            cidr: 10.0.0.0/33\n',
      ),
    );
    expect(found).to.deep.equal([
      '11:13: NetworkPolicy x/p: spec.ingress[0].from[0].ipBlock.cidr: "10.0.0.0/33" is not a valid CIDR (expected e.g. 10.0.0.0/16 or fd00::/64)',
    ]);
  });

  it('rejects an except that is not a strict subset of its cidr, and one equal to it', () => {
    const found = problems(
      policy(
        '  podSelector: {}\n  egress:\n    - to:\n        - ipBlock:\n            cidr: 10.0.0.0/16\n            except: [10.1.0.0/24, 10.0.0.0/16, fd00::/64]\n',
      ),
    );
    expect(found).to.deep.equal([
      '12:22: NetworkPolicy x/p: spec.egress[0].to[0].ipBlock.except[0]: "10.1.0.0/24" must be a strict subset of cidr 10.0.0.0/16',
      '12:35: NetworkPolicy x/p: spec.egress[0].to[0].ipBlock.except[1]: "10.0.0.0/16" must be a strict subset of cidr 10.0.0.0/16',
      '12:48: NetworkPolicy x/p: spec.egress[0].to[0].ipBlock.except[2]: "fd00::/64" must be a strict subset of cidr 10.0.0.0/16',
    ]);
  });

  it('accepts host bits and leading zeros in a CIDR, as the API server does', () => {
    expect(
      problems(
        policy(
          '  podSelector: {}\n  ingress:\n    - from:\n        - ipBlock: {cidr: 10.0.1.1/4, except: [010.000.001.000/24]}\n',
        ),
      ),
    ).to.deep.equal([]);
  });

  it('rejects unknown selector operators and misuse of values', () => {
    const found = problems(
      policy(
        '  podSelector:\n    matchExpressions:\n      - {key: app, operator: Equals, values: [a]}\n      - {key: app, operator: In, values: []}\n      - {key: app, operator: Exists, values: [a]}\n',
      ),
    );
    expect(found).to.deep.equal([
      '9:20: NetworkPolicy x/p: spec.podSelector.matchExpressions[0].operator: "Equals" is not a valid selector operator: expected one of In, NotIn, Exists, DoesNotExist',
      '10:34: NetworkPolicy x/p: spec.podSelector.matchExpressions[1].values: must be specified (non-empty) when operator is In',
      '11:38: NetworkPolicy x/p: spec.podSelector.matchExpressions[2].values: may not be specified when operator is Exists',
    ]);
  });

  it('rejects ports out of range, bad endPorts and unknown protocols', () => {
    const found = problems(
      policy(
        '  podSelector: {}\n  ingress:\n    - ports:\n        - {port: 0}\n        - {port: 70000}\n        - {port: 90, endPort: 80}\n        - {port: http, endPort: 90}\n        - {endPort: 90}\n        - {protocol: tcp, port: 80}\n        - {protocol: ICMP}\n',
      ),
    );
    expect(found).to.deep.equal([
      '10:12: NetworkPolicy x/p: spec.ingress[0].ports[0].port: must be between 1 and 65535, inclusive (got 0)',
      '11:12: NetworkPolicy x/p: spec.ingress[0].ports[1].port: must be between 1 and 65535, inclusive (got 70000)',
      '12:22: NetworkPolicy x/p: spec.ingress[0].ports[2].endPort: must be greater than or equal to port (80 < 90)',
      '13:24: NetworkPolicy x/p: spec.ingress[0].ports[3].endPort: may not be specified when port is a named port',
      '14:11: NetworkPolicy x/p: spec.ingress[0].ports[4].port: must be specified when endPort is specified',
      '15:12: NetworkPolicy x/p: spec.ingress[0].ports[5].protocol: unsupported protocol "tcp": expected one of TCP, UDP, SCTP; did you mean "TCP"? (protocols are case-sensitive)',
      '16:12: NetworkPolicy x/p: spec.ingress[0].ports[6].protocol: unsupported protocol "ICMP": expected one of TCP, UDP, SCTP',
    ]);
  });

  it('rejects a quoted number as a port (it would be an invalid port name)', () => {
    const found = problems(policy('  podSelector: {}\n  ingress:\n    - ports: [{port: "80"}]\n'));
    expect(found).to.have.length(1);
    expect(found[0]).to.contain('invalid port name "80"').and.contain('write it unquoted');
  });

  it('requires metadata.name and reports every problem of every object at once', () => {
    const found = problems(
      `${policy('  podSelector: {}\n', 'namespace: x')}\n---\n${policy('  policyTypes: [Ingress, Outbound]\n  ingres: []\n')}`,
    );
    expect(found).to.deep.equal([
      '3:1: NetworkPolicy x/?: metadata.name: required',
      '16:3: NetworkPolicy x/p: spec.ingres: unknown field "ingres"; did you mean "ingress"? (expected one of: podSelector, policyTypes, ingress, egress)',
      '15:26: NetworkPolicy x/p: spec.policyTypes[1]: unsupported value "Outbound": expected "Ingress" or "Egress"',
    ]);
  });

  it('rejects a peer with nothing in it, and ipBlock combined with a selector', () => {
    const found = problems(
      policy(
        '  podSelector: {}\n  ingress:\n    - from:\n        - {}\n        - ipBlock: {cidr: 10.0.0.0/8}\n          podSelector: {}\n',
      ),
    );
    expect(found).to.deep.equal([
      '10:11: NetworkPolicy x/p: spec.ingress[0].from[0]: must specify a peer: podSelector, namespaceSelector (or both), or ipBlock',
      '11:11: NetworkPolicy x/p: spec.ingress[0].from[1]: may not specify both ipBlock and another peer',
    ]);
  });

  it('explains the YAML 1.1 boolean trap with the text the user wrote', () => {
    const found = problems('apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: y}\n');
    expect(found).to.deep.equal([
      '3:21: Pod default/a: metadata.namespace: expected a string, got y, which YAML 1.1 (as kubectl reads manifests) takes for the boolean true: quote it, "y"',
    ]);
  });

  it('rejects invalid label keys and values, and numbers where label values belong', () => {
    const found = problems(
      'apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  labels: {"-bad": x, ok: "not ok", version: 1.0}\n',
    );
    expect(found).to.have.length(3);
    expect(found[0]).to.contain('invalid label key "-bad"');
    expect(found[1]).to.contain('invalid label value "not ok"');
    expect(found[2]).to.contain('metadata.labels.version: expected a string, got 1.0');
  });

  it('rejects duplicate objects, naming the first definition', () => {
    const pod = 'apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: x}\n';
    expect(problems(`${pod}---\n${pod}`)).to.deep.equal([
      '7:12: Pod x/a: metadata.name: duplicate object: already defined at bad.yaml:1:1',
    ]);
  });

  it('decodes nulls as the zero value, as the API server does', () => {
    // policyTypes [null] is [""], which validation rejects; a null label value is "", valid.
    expect(
      problems(policy('  podSelector: {matchLabels: {app: }}\n  policyTypes: [null]\n')),
    ).to.deep.equal([
      '8:17: NetworkPolicy x/p: spec.policyTypes[0]: unsupported value "": expected "Ingress" or "Egress"',
    ]);
  });

  it('reads scalars as kubectl does: no base-60 numbers, 0o octal, dates as strings', () => {
    const found = problems(
      policy(
        '  podSelector: {matchLabels: {release: 2024-01-01}}\n  ingress:\n    - ports: [{port: 1:20}, {port: 0o120}]\n',
      ),
    );
    expect(found).to.have.length(1);
    expect(found[0]).to.contain('ports[0].port: invalid port name "1:20"');
  });

  it('rejects CIDRs with spaces and hex in an embedded IPv4 part', () => {
    const found = problems(
      policy(
        '  podSelector: {}\n  ingress:\n    - from: [{ipBlock: {cidr: " 10.0.0.0/8"}}, {ipBlock: {cidr: "::ffff:0x0a.0.0.1/128"}}]\n',
      ),
    );
    expect(found.map((f) => f.replace(/^\d+:\d+: /, ''))).to.deep.equal([
      'NetworkPolicy x/p: spec.ingress[0].from[0].ipBlock.cidr: " 10.0.0.0/8" is not a valid CIDR (expected e.g. 10.0.0.0/16 or fd00::/64)',
      'NetworkPolicy x/p: spec.ingress[0].from[1].ipBlock.cidr: "::ffff:0x0a.0.0.1/128" is not a valid CIDR (expected e.g. 10.0.0.0/16 or fd00::/64)',
    ]);
  });

  it('validates container ports like the API server: duplicate names, empty protocol and name', () => {
    const pod = (ports: string, extra = '') =>
      `apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n${extra}  containers:\n    - name: c\n      ports: ${ports}\n`;
    expect(
      problems(pod('[{name: http, containerPort: 80}, {name: http, containerPort: 81}]')),
    ).to.deep.equal([
      '7:49: Pod default/a: spec.containers[0].ports[1].name: duplicate port name "http" in this container',
    ]);
    expect(problems(pod('[{name: "", protocol: "", containerPort: 80}]'))).to.deep.equal([]);
    expect(
      problems(
        pod('[]', '  initContainers: [{name: i, ports: [{name: BAD, containerPort: 1}]}]\n'),
      ),
    ).to.have.length(1);
  });

  it('rejects a wrong apiVersion for a NetworkPolicy', () => {
    expect(
      problems(
        'apiVersion: extensions/v1beta1\nkind: NetworkPolicy\nmetadata: {name: p}\nspec: {podSelector: {}}\n',
      ),
    ).to.deep.equal([
      '1:1: NetworkPolicy default/p: apiVersion: expected networking.k8s.io/v1 for a NetworkPolicy, got the string "extensions/v1beta1"',
    ]);
  });
});

function load(text: string, file: string) {
  try {
    return loadManifestText(text, file);
  } catch (error) {
    if (error instanceof InputError) throw new Error(error.issues.map(formatIssue).join('\n'));
    throw error;
  }
}

describe('manifest loading', () => {
  it('reads Lists, workloads and pod IPs, and defaults the namespace', () => {
    const { world, ignored } = load(
      [
        'apiVersion: v1',
        'kind: List',
        'items:',
        '  - apiVersion: v1',
        '    kind: Pod',
        '    metadata: {name: a, labels: {app: a}}',
        '    spec: {containers: [{name: c, image: i, ports: [{containerPort: 80, name: http}]}]}',
        '    status: {podIP: 10.0.0.1, podIPs: [{ip: 10.0.0.1}, {ip: "fd00::1"}]}',
        '  - apiVersion: batch/v1',
        '    kind: CronJob',
        '    metadata: {name: nightly, namespace: jobs}',
        '    spec: {schedule: "@daily", jobTemplate: {spec: {template: {metadata: {labels: {job: nightly}}, spec: {hostNetwork: true, containers: [{name: c, image: i}]}}}}}',
        '  - apiVersion: v1',
        '    kind: Service',
        '    metadata: {name: s}',
      ].join('\n'),
      'list.yaml',
    );
    expect(world.pods).to.deep.equal([
      {
        namespace: 'default',
        name: 'a',
        labels: { app: 'a' },
        ips: ['10.0.0.1', 'fd00::1'],
        ports: [{ containerPort: 80, protocol: 'TCP', name: 'http' }],
        hostNetwork: false,
      },
      {
        namespace: 'jobs',
        name: 'nightly',
        // The Job a CronJob creates is labelled with its name, <cronjob>-<minutes> (docs/MODEL.md).
        labels: {
          'job-name': 'nightly-0',
          'batch.kubernetes.io/job-name': 'nightly-0',
          job: 'nightly',
        },
        ips: [],
        ports: [],
        hostNetwork: true,
        origin: 'CronJob nightly',
      },
    ]);
    expect(ignored.map((i) => `${i.kind} ${i.name} ${i.location.line}`)).to.deep.equal([
      'Service s 13',
    ]);
  });

  it('defaults policyTypes as the API server does', () => {
    const { world } = loadManifestText(
      [
        policy('  podSelector: {}\n  egress: []\n'),
        policy('  podSelector: {}\n  egress: [{}]\n', 'name: q'),
        policy('  podSelector: {}\n  policyTypes: [Egress]\n', 'name: r'),
      ].join('\n---\n'),
      'p.yaml',
    );
    expect(
      world.policies.map((p) => [p.name, p.policyTypes, p.policyTypesDefaulted]),
    ).to.deep.equal([
      ['p', ['Ingress'], true],
      ['q', ['Ingress', 'Egress'], true],
      ['r', ['Egress'], false],
    ]);
  });
});
