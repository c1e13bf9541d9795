import { expect } from 'chai';
import { InputError } from '../../src/domain/errors.js';
import { formatIssue } from '../../src/domain/issue.js';
import { loadManifestText } from '../../src/manifest/load.js';
import { NetworkModel } from '../../src/model/engine.js';

/*
 * Workloads as their controllers run them: replicas, controller labels, names scoped by kind.
 * Every expectation below is written by hand from the Kubernetes documentation cited.
 */

function load(text: string) {
  try {
    return loadManifestText(text, 'w.yaml');
  } catch (error) {
    if (error instanceof InputError) throw new Error(error.issues.map(formatIssue).join('\n'));
    throw error;
  }
}

function problems(text: string): string[] {
  try {
    loadManifestText(text, 'w.yaml');
    return [];
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    return error.issues.map(formatIssue);
  }
}

const workload = (kind: string, name: string, spec: string, labels = '{app: x}') =>
  [
    `apiVersion: ${kind === 'Job' || kind === 'CronJob' ? 'batch/v1' : 'apps/v1'}`,
    `kind: ${kind}`,
    `metadata: {name: ${name}, namespace: db}`,
    'spec:',
    spec,
    kind === 'CronJob'
      ? `  jobTemplate: {spec: {template: {metadata: {labels: ${labels}}, spec: {containers: [{name: c, image: i, ports: [{name: peer, containerPort: 2380}]}]}}}}`
      : `  template: {metadata: {labels: ${labels}}, spec: {containers: [{name: c, image: i, ports: [{name: peer, containerPort: 2380}]}]}}`,
  ].join('\n');

const DENY_ALL =
  'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny-all, namespace: db}\nspec: {podSelector: {}}';

describe('workloads: replicas, controller labels, names scoped by kind', () => {
  it('a StatefulSet with 3 replicas is etcd-0, etcd-1, etcd-2, each with its pod-name and pod-index labels', () => {
    const { world } = load(workload('StatefulSet', 'etcd', '  replicas: 3\n  serviceName: etcd'));
    expect(world.pods.map((p) => [p.name, p.labels, p.origin])).to.deep.equal([
      [
        'etcd-0',
        {
          app: 'x',
          'statefulset.kubernetes.io/pod-name': 'etcd-0',
          'apps.kubernetes.io/pod-index': '0',
        },
        'StatefulSet etcd',
      ],
      [
        'etcd-1',
        {
          app: 'x',
          'statefulset.kubernetes.io/pod-name': 'etcd-1',
          'apps.kubernetes.io/pod-index': '1',
        },
        'StatefulSet etcd',
      ],
      [
        'etcd-2',
        {
          app: 'x',
          'statefulset.kubernetes.io/pod-name': 'etcd-2',
          'apps.kubernetes.io/pod-index': '2',
        },
        'StatefulSet etcd',
      ],
    ]);
  });

  it('under a deny-all, etcd-0 -> etcd-1 is denied while each replica reaching itself stays allowed', () => {
    const { world } = load(
      [workload('StatefulSet', 'etcd', '  replicas: 3\n  serviceName: etcd'), DENY_ALL].join(
        '\n---\n',
      ),
    );
    const model = new NetworkModel(world);
    const table = model.table({ port: 2380, protocol: 'TCP' });
    const at = (from: string, to: string) =>
      table.allowed(model.endpoint(from)!.index, model.endpoint(to)!.index);
    expect(at('db/etcd-0', 'db/etcd-1')).to.equal(false);
    expect(at('db/etcd-2', 'db/etcd-0')).to.equal(false);
    expect(at('db/etcd-1', 'db/etcd-1')).to.equal(true);
  });

  it('a policy on statefulset.kubernetes.io/pod-name selects that replica only', () => {
    const { world } = load(
      [
        workload('StatefulSet', 'etcd', '  replicas: 2\n  serviceName: etcd'),
        'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: only-0, namespace: db}\nspec:\n  podSelector: {matchLabels: {statefulset.kubernetes.io/pod-name: etcd-0}}\n  ingress: []',
      ].join('\n---\n'),
    );
    const model = new NetworkModel(world);
    const table = model.table({ port: 2380, protocol: 'TCP' });
    expect(
      table.allowed(model.endpoint('db/etcd-1')!.index, model.endpoint('db/etcd-0')!.index),
    ).to.equal(false);
    expect(
      table.allowed(model.endpoint('db/etcd-0')!.index, model.endpoint('db/etcd-1')!.index),
    ).to.equal(true);
  });

  it('replicas: default 1 keeps the workload name; 0 means no pods; 2 or more interchangeable replicas are two pods -r1, -r2', () => {
    const { world } = load(
      [
        workload('Deployment', 'one', '  selector: {matchLabels: {app: x}}'),
        workload('Deployment', 'none', '  replicas: 0'),
        workload('Deployment', 'many', '  replicas: 5'),
        workload('ReplicaSet', 'rs', '  replicas: 2'),
        workload('DaemonSet', 'agent', '  selector: {matchLabels: {app: x}}'),
        workload('StatefulSet', 'solo', '  serviceName: solo'),
        workload('StatefulSet', 'zero', '  replicas: 0'),
      ].join('\n---\n'),
    );
    expect(world.pods.map((p) => p.name)).to.deep.equal([
      'one',
      'many-r1',
      'many-r2',
      'rs-r1',
      'rs-r2',
      'agent-r1',
      'agent-r2',
      'solo',
    ]);
    // A one-replica StatefulSet keeps its name as key, but its pod's labels are those of solo-0.
    expect(world.pods.find((p) => p.name === 'solo')?.labels).to.deep.equal({
      app: 'x',
      'statefulset.kubernetes.io/pod-name': 'solo-0',
      'apps.kubernetes.io/pod-index': '0',
    });
  });

  it('rejects negative replicas as the API server does', () => {
    expect(problems(workload('Deployment', 'neg', '  replicas: -1'))).to.deep.equal([
      'w.yaml:5:3: Deployment db/neg: spec.replicas: must be greater than or equal to 0, got -1',
    ]);
  });

  it('Job and CronJob pods carry job-name and batch.kubernetes.io/job-name; parallelism sets how many run', () => {
    const { world } = load(
      [
        workload('Job', 'migrate', '  parallelism: 3\n  completions: 2'),
        workload('CronJob', 'nightly', '  schedule: "@daily"'),
        workload('Job', 'manual', '  manualSelector: true\n  selector: {matchLabels: {app: x}}'),
        workload('Job', 'indexed', '  completionMode: Indexed\n  completions: 4\n  parallelism: 2'),
        workload('Job', 'paused', '  suspend: true'),
      ].join('\n---\n'),
    );
    expect(world.pods.map((p) => [p.name, p.labels])).to.deep.equal([
      [
        'migrate-r1',
        { 'job-name': 'migrate', 'batch.kubernetes.io/job-name': 'migrate', app: 'x' },
      ],
      [
        'migrate-r2',
        { 'job-name': 'migrate', 'batch.kubernetes.io/job-name': 'migrate', app: 'x' },
      ],
      [
        'nightly',
        { 'job-name': 'nightly-0', 'batch.kubernetes.io/job-name': 'nightly-0', app: 'x' },
      ],
      ['manual', { app: 'x' }],
      [
        'indexed-r1',
        {
          'job-name': 'indexed',
          'batch.kubernetes.io/job-name': 'indexed',
          app: 'x',
          'batch.kubernetes.io/job-completion-index': '0',
        },
      ],
      [
        'indexed-r2',
        {
          'job-name': 'indexed',
          'batch.kubernetes.io/job-name': 'indexed',
          app: 'x',
          'batch.kubernetes.io/job-completion-index': '1',
        },
      ],
    ]);
  });

  it('objects of different kinds may share a name; each keeps its pods, named apart', () => {
    const { world } = load(
      [
        workload('Deployment', 'etcd', '  replicas: 1'),
        workload('StatefulSet', 'etcd', '  replicas: 2\n  serviceName: etcd'),
        'apiVersion: v1\nkind: Pod\nmetadata: {name: etcd, namespace: db}\nspec: {containers: [{name: c, image: i}]}',
      ].join('\n---\n'),
    );
    expect(world.pods.map((p) => `${p.name} (${p.origin ?? 'Pod'})`)).to.deep.equal([
      'etcd-deployment (Deployment etcd)',
      'etcd-0 (StatefulSet etcd)',
      'etcd-1 (StatefulSet etcd)',
      'etcd (Pod)',
    ]);
  });

  it('duplicates are of one kind, and the message names that kind', () => {
    const sts = workload('StatefulSet', 'etcd', '  serviceName: etcd');
    expect(problems([sts, sts].join('\n---\n'))).to.deep.equal([
      'w.yaml:10:12: StatefulSet db/etcd: metadata.name: duplicate object: already defined at w.yaml:1:1',
    ]);
  });
});
