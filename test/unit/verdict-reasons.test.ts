import { expect } from 'chai';
import { NetworkModel, type Verdict } from '../../src/model/engine.js';
import type { NetworkPolicyInfo, PodInfo, World } from '../../src/model/types.js';

/*
 * The sentence a verdict carries (what `check` and `model` print for a cell): one flow per kind
 * of decision on each side. Expected sentences are written by hand from the decisions they
 * describe.
 */

const pod = (name: string, extra: Partial<PodInfo> = {}): PodInfo => ({
  namespace: 'app',
  name,
  labels: { app: name },
  ips: [],
  hostNetwork: false,
  ports: [{ containerPort: 80, protocol: 'TCP', name: 'http' }],
  ...extra,
});
const denyAll = (
  name: string,
  app: string,
  types: ('Ingress' | 'Egress')[],
): NetworkPolicyInfo => ({
  namespace: 'app',
  name,
  podSelector: { matchLabels: { app }, matchExpressions: [] },
  policyTypes: types,
  policyTypesDefaulted: false,
  ingress: [],
  egress: [],
});

const world: World = {
  namespaces: [{ name: 'app', labels: {} }],
  pods: [
    pod('a', { nodeName: 'n1' }),
    pod('b'),
    pod('c'),
    pod('host', { hostNetwork: true, nodeName: 'n2' }),
  ],
  externals: [
    { name: 'net', ip: '203.0.113.9', ports: [{ containerPort: 80, protocol: 'TCP' }] },
    { name: 'n1', ip: '10.240.0.1', node: true, ports: [{ containerPort: 80, protocol: 'TCP' }] },
  ],
  policies: [
    denyAll('deny-b', 'b', ['Ingress', 'Egress']),
    denyAll('deny-b-in', 'b', ['Ingress']),
    {
      ...denyAll('c-from-a', 'c', ['Ingress']),
      ingress: [
        {
          peers: [{ podSelector: { matchLabels: { app: 'a' }, matchExpressions: [] } }],
          ports: null,
        },
      ],
    },
  ],
};

const TCP80 = { port: 80, protocol: 'TCP' } as const;
const reason = (model: NetworkModel, from: string, to: string, probe: Verdict['probe'] = TCP80) =>
  model.verdict(from, to, probe).reason;

describe('verdict reasons', () => {
  const model = new NetworkModel(world);

  it('names every policy that isolates a side, in the singular or the plural', () => {
    expect(reason(model, 'app/a', 'app/b')).to.equal(
      'denied: app/deny-b, app/deny-b-in select app/b for Ingress and no rule admits app/a on 80/TCP',
    );
    expect(reason(model, 'app/b', 'app/a')).to.equal(
      'denied: app/deny-b selects app/b for Egress and no rule admits app/a on 80/TCP',
    );
    expect(reason(model, 'app/b', 'app/c')).to.equal(
      'denied: app/deny-b selects app/b for Egress and no rule admits app/c on 80/TCP; and app/c-from-a selects app/c for Ingress and no rule admits app/b on 80/TCP',
    );
  });

  it('says why each side is open: not isolated, a rule that admits, outside the cluster, host network', () => {
    expect(reason(model, 'app/a', 'app/c')).to.equal(
      'allowed: no policy selects app/a for Egress; ingress admitted by app/c-from-a spec.ingress[0]',
    );
    expect(reason(model, 'ext:net', 'app/a')).to.equal(
      'allowed: ext:net@203.0.113.9 is outside the cluster (no policy applies to it); no policy selects app/a for Ingress',
    );
    expect(reason(model, 'app/host', 'app/a')).to.equal(
      'allowed: app/host uses the host network (policies do not select it); no policy selects app/a for Ingress',
    );
  });

  it('a pod and its own node, and a pod and itself, are allowed for what they are', () => {
    expect(reason(model, 'ext:n1', 'app/a')).to.equal(
      'allowed: traffic between a pod and the node it runs on (n1) is always allowed',
    );
    expect(reason(model, 'app/b', 'app/b')).to.equal(
      'allowed: app/b connecting to itself is not subject to NetworkPolicy (selfTraffic: allow)',
    );
  });

  it('a named probe shows the port it resolved to; an unserved name has no verdict', () => {
    expect(reason(model, 'app/b', 'app/a', { port: 'http', protocol: 'TCP' })).to.equal(
      'denied: app/deny-b selects app/b for Egress and no rule admits app/a on http/TCP (port 80)',
    );
    const pods = model.verdict('app/a', 'app/b', { port: 'metrics', protocol: 'TCP' });
    expect(pods).to.not.have.property('verdict');
    expect(pods.reason).to.equal('app/b declares no TCP container port named "metrics"');
    expect(reason(model, 'app/a', 'ext:net', { port: 'http', protocol: 'TCP' })).to.equal(
      'ext:net@203.0.113.9 is not a pod: a port name cannot be resolved on it',
    );
  });
});
