import * as k8s from '@kubernetes/client-node';
import { expect } from 'chai';
import { stringify } from 'yaml';
import type { ClusterState } from '../../src/cluster/index.js';
import { livePod, livePolicy } from '../../src/cluster/read.js';
import { InputError } from '../../src/domain/errors.js';
import { formatIssue } from '../../src/domain/issue.js';
import { parseScenario } from '../../src/dsl/load.js';
import { checkScenario } from '../../src/engine/check.js';
import { liveScenarioDocument } from '../../src/engine/init-live.js';
import { worldOfState } from '../../src/engine/live-world.js';
import { failing } from '../../src/engine/results.js';
import { DEFAULT_MODEL_OPTIONS } from '../../src/model/types.js';

/*
 * A cluster's state as the model's world, and `init --kubeconfig`'s scenario. The API objects
 * are written by hand as the API server returns them; the lab proves the reading itself
 * (test/e2e/live-model.e2e.ts).
 */

describe('live cluster state', () => {
  it('a NetworkPolicy read through the client keeps `from`, `except` and named ports', () => {
    // The client's typed object calls `from` `_from`: sent or read as is, "allow from X" would
    // become "allow from anywhere".
    const typed = k8s.loadYaml<k8s.V1NetworkPolicy>(
      [
        'apiVersion: networking.k8s.io/v1',
        'kind: NetworkPolicy',
        'metadata: {name: p, namespace: shop, uid: "1", resourceVersion: "7", labels: {a: b}}',
        'spec:',
        '  podSelector: {matchLabels: {tier: db}}',
        '  ingress:',
        '  - from: [{podSelector: {matchLabels: {tier: api}}}, {ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}}]',
        '    ports: [{port: mysql}, {port: 5000, endPort: 5010, protocol: UDP}]',
        '  policyTypes: [Ingress]',
      ].join('\n'),
    );
    const policy = livePolicy(typed);
    expect(policy).to.deep.equal({
      namespace: 'shop',
      name: 'p',
      object: {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'p', namespace: 'shop', labels: { a: 'b' } },
        spec: {
          podSelector: { matchLabels: { tier: 'db' } },
          ingress: [
            {
              from: [
                { podSelector: { matchLabels: { tier: 'api' } } },
                { ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } },
              ],
              ports: [{ port: 'mysql' }, { port: 5000, endPort: 5010, protocol: 'UDP' }],
            },
          ],
          policyTypes: ['Ingress'],
        },
      },
    });
  });

  it('a running pod: labels, every IP once, node, host network, ports of containers and sidecars', () => {
    const pod = k8s.loadYaml<k8s.V1Pod>(
      [
        'apiVersion: v1',
        'kind: Pod',
        'metadata: {name: web-7d9f-abcde, namespace: shop, labels: {tier: web}}',
        'spec:',
        '  nodeName: node-1',
        '  initContainers:',
        '  - {name: init, image: i, ports: [{containerPort: 1111}]}',
        '  - {name: proxy, image: i, restartPolicy: Always, ports: [{name: proxy, containerPort: 15001}]}',
        '  containers:',
        '  - {name: c, image: i, ports: [{name: http, containerPort: 80}, {containerPort: 53, protocol: UDP}]}',
        'status: {phase: Running, podIP: 10.0.0.5, podIPs: [{ip: 10.0.0.5}, {ip: "fd00::5"}]}',
      ].join('\n'),
    );
    expect(livePod(pod)).to.deep.equal({
      namespace: 'shop',
      name: 'web-7d9f-abcde',
      labels: { tier: 'web' },
      ips: ['10.0.0.5', 'fd00::5'],
      nodeName: 'node-1',
      hostNetwork: false,
      ports: [
        { containerPort: 15001, protocol: 'TCP', name: 'proxy' },
        { containerPort: 80, protocol: 'TCP', name: 'http' },
        { containerPort: 53, protocol: 'UDP' },
      ],
    });
  });

  const STATE: ClusterState = {
    server: 'https://10.0.0.1:6443',
    scope: 'all',
    namespaces: [
      { name: 'shop', labels: { 'kubernetes.io/metadata.name': 'shop', team: 'shop' } },
      { name: 'ops', labels: { 'kubernetes.io/metadata.name': 'ops' } },
    ],
    pods: [
      {
        namespace: 'shop',
        name: 'db-0',
        labels: { tier: 'db' },
        ips: ['10.0.0.3'],
        nodeName: 'n1',
        hostNetwork: false,
        ports: [{ containerPort: 3306, protocol: 'TCP', name: 'mysql' }],
      },
      {
        namespace: 'shop',
        name: 'api-5f-x2',
        labels: { tier: 'api' },
        ips: ['10.0.0.2'],
        nodeName: 'n1',
        hostNetwork: false,
        ports: [
          { containerPort: 5000, protocol: 'TCP' },
          { containerPort: 5000, protocol: 'TCP' },
        ],
      },
      {
        namespace: 'ops',
        name: 'probe',
        labels: {},
        ips: ['10.0.0.9'],
        hostNetwork: false,
        ports: [],
      },
    ],
    policies: [
      {
        namespace: 'shop',
        name: 'db',
        object: {
          apiVersion: 'networking.k8s.io/v1',
          kind: 'NetworkPolicy',
          metadata: { name: 'db', namespace: 'shop' },
          spec: {
            podSelector: { matchLabels: { tier: 'db' } },
            ingress: [{ from: [{ podSelector: { matchLabels: { tier: 'api' } } }] }],
          },
        },
      },
    ],
  };

  it('becomes the model world: policies validated and defaulted as the API server stores them', () => {
    const world = worldOfState(STATE);
    expect(world.pods.map((p) => `${p.namespace}/${p.name}`)).to.deep.equal([
      'shop/db-0',
      'shop/api-5f-x2',
      'ops/probe',
    ]);
    expect(world.policies[0]?.policyTypes).to.deep.equal(['Ingress']);
    expect(world.policies[0]?.policyTypesDefaulted).to.equal(true);
  });

  it('a policy the model rejects is an input problem naming the object and the cluster', () => {
    const bad: ClusterState = {
      ...STATE,
      policies: [
        {
          namespace: 'shop',
          name: 'weird',
          object: {
            apiVersion: 'networking.k8s.io/v1',
            kind: 'NetworkPolicy',
            metadata: { name: 'weird', namespace: 'shop' },
            spec: { podSelector: {}, policyTypes: ['Sideways'] },
          },
        },
      ],
    };
    try {
      worldOfState(bad);
      expect.fail('expected an InputError');
    } catch (error) {
      expect(error).to.be.instanceOf(InputError);
      const text = (error as InputError).issues.map(formatIssue).join('\n');
      expect(text).to.contain('cluster https://10.0.0.1:6443');
      expect(text).to.contain('NetworkPolicy shop/weird');
      expect(text).to.contain('Sideways');
    }
  });

  it('init --kubeconfig: the scenario holds the state inline and its tables check clean', async () => {
    const { document } = await liveScenarioDocument(STATE, DEFAULT_MODEL_OPTIONS, { name: 'prod' });
    const text = stringify(document, { lineWidth: 0 });
    expect(document.topology).to.deep.equal({
      namespaces: {
        shop: {
          labels: { team: 'shop' },
          pods: {
            'db-0': {
              labels: { tier: 'db' },
              ports: [{ port: 3306, name: 'mysql' }],
              ips: ['10.0.0.3'],
              node: 'n1',
            },
            'api-5f-x2': { labels: { tier: 'api' }, ports: [5000], ips: ['10.0.0.2'], node: 'n1' },
          },
        },
        ops: { pods: { probe: { ips: ['10.0.0.9'] } } },
      },
    });
    // Hand-derived: db admits only tier=api (and itself: selfTraffic allow); api has no policy.
    // A scenario pod serves exactly the ports it lists: ops/probe declares none, so every cell
    // to it is "?" (unresolvable), as are db on 5000 and api on 3306.
    expect(document.expect).to.deep.equal({
      tables: {
        '3306/TCP': [
          'from\\to         shop/db-0  shop/api-5f-x2  ops/probe',
          'shop/db-0           .            ?             ?',
          'shop/api-5f-x2      .            ?             ?',
          'ops/probe           X            ?             ?',
          '',
        ].join('\n'),
        '5000/TCP': [
          'from\\to         shop/db-0  shop/api-5f-x2  ops/probe',
          'shop/db-0           ?            .             ?',
          'shop/api-5f-x2      ?            .             ?',
          'ops/probe           ?            .             ?',
          '',
        ].join('\n'),
      },
    });
    const scenario = await parseScenario(text, 'prod.yaml');
    const result = await checkScenario(scenario);
    expect(failing(result.counts)).to.equal(0);
    expect(result.counts.byClass.agree).to.be.greaterThan(0);
  });
});
