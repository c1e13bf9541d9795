import { expect } from 'chai';
import { execa } from 'execa';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { kindConfig, POD_SUBNET, VERSIONS } from '../../src/kind/index.js';
import { FakeTools, type Call, type FakeTool, type Rule } from '../support/fake-tools.js';

/*
 * `polygraph cluster up/down`, the built CLI run as a user runs it, with recording fakes of
 * docker, kind, kubectl, helm and cilium as its whole PATH: the exact commands and their order
 * for each CNI, the kind configuration and the files applied, and every error path.
 */
const ROOT = new URL('../../', import.meta.url).pathname;
const CLI = join(ROOT, 'dist/cli/main.js');
const CALICO_CRS = join(ROOT, 'src/kind/assets/calico-custom-resources.yaml');
const CILIUM_VALUES = join(ROOT, 'src/kind/assets/cilium-values.yaml');
const NODE_IMAGE =
  'kindest/node:v1.35.0@sha256:452d707d4862f52530247495d180205e029056831160e22870e37e3f6c1ac31f';
const AGNHOST = 'registry.k8s.io/e2e-test-images/agnhost:2.53';
const CALICO_URL = 'https://raw.githubusercontent.com/projectcalico/calico/v3.31.3/manifests';

async function polygraph(fakes: FakeTools, ...args: string[]) {
  const r = await execa(process.execPath, [CLI, ...args], {
    reject: false,
    env: { PATH: fakes.bin, NO_COLOR: '1', HOME: fakes.dir },
    extendEnv: false,
  });
  return { code: r.exitCode, stdout: r.stdout, stderr: r.stderr };
}

const PREFLIGHT = [
  'docker version --format {{.Server.Version}}',
  'kind version',
  'kubectl version --client -o json',
];
const PULL = [
  `docker image inspect --format {{.Id}} ${AGNHOST}`,
  `docker pull ${AGNHOST}`,
  `kind create cluster --name polygraph --image ${NODE_IMAGE} --config -`,
];
const READY = [
  'kubectl --context kind-polygraph wait --for=condition=Ready nodes --all --timeout=300s',
  'kubectl --context kind-polygraph -n kube-system rollout status deployment/coredns --timeout=300s',
  `kind load docker-image ${AGNHOST} --name polygraph`,
];

const EXPECTED: Record<'calico' | 'cilium' | 'kindnet', string[]> = {
  calico: [
    ...PREFLIGHT,
    'kind get clusters',
    ...PULL,
    `kubectl --context kind-polygraph create -f ${CALICO_URL}/operator-crds.yaml`,
    `kubectl --context kind-polygraph create -f ${CALICO_URL}/tigera-operator.yaml`,
    'kubectl --context kind-polygraph wait --for=condition=Established --timeout=120s crd/installations.operator.tigera.io crd/apiservers.operator.tigera.io',
    'kubectl --context kind-polygraph -n tigera-operator rollout status deployment/tigera-operator --timeout=300s',
    `kubectl --context kind-polygraph apply -f ${CALICO_CRS}`,
    'kubectl --context kind-polygraph wait --for=create --timeout=300s tigerastatus/calico',
    'kubectl --context kind-polygraph wait --for=condition=Available --timeout=600s tigerastatus/calico',
    ...READY,
  ],
  cilium: [
    ...PREFLIGHT,
    'cilium version --client',
    'kind get clusters',
    ...PULL,
    `cilium install --context kind-polygraph --version 1.19.3 --values ${CILIUM_VALUES} --wait`,
    'cilium status --context kind-polygraph --wait --wait-duration 600s',
    ...READY,
  ],
  kindnet: [
    ...PREFLIGHT,
    'kind get clusters',
    ...PULL,
    'kubectl --context kind-polygraph -n kube-system rollout status daemonset/kindnet --timeout=300s',
    ...READY,
  ],
};

/** The kind configuration polygraph piped into `kind create cluster --config -`. */
function configOf(calls: Call[]): Record<string, unknown> {
  const create = calls.find((c) => c.tool === 'kind' && c.args[0] === 'create');
  expect(create?.stdin, 'kind create cluster read its config from stdin').to.be.a('string');
  return parse(create?.stdin ?? '') as Record<string, unknown>;
}

function calicoPoolCidrs(file: string): string[] {
  const docs = parseAllDocuments(readFileSync(file, 'utf8')).map(
    (d) =>
      d.toJS() as { kind?: string; spec?: { calicoNetwork?: { ipPools?: { cidr: string }[] } } },
  );
  expect(docs.map((d) => d.kind)).to.deep.equal(['Installation', 'APIServer']);
  return docs.flatMap((d) => d.spec?.calicoNetwork?.ipPools?.map((p) => p.cidr) ?? []);
}

describe('polygraph cluster up/down (built CLI, recording fakes)', function () {
  this.timeout(60_000);
  let fakes: FakeTools | undefined;
  const use = (overrides: Rule[] = [], omit: FakeTool[] = []): FakeTools =>
    (fakes = new FakeTools(overrides, omit));

  before(function () {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
  });
  afterEach(() => {
    fakes?.cleanup();
    fakes = undefined;
  });

  // One `cluster up` per CNI, run side by side; the tests below read what each one did.
  type Cni = 'calico' | 'cilium' | 'kindnet';
  const CNIS: readonly Cni[] = ['calico', 'cilium', 'kindnet'];
  const runs = new Map<Cni, { fakes: FakeTools; r: Awaited<ReturnType<typeof polygraph>> }>();
  before(async () => {
    await Promise.all(
      CNIS.map(async (cni) => {
        const f = new FakeTools();
        runs.set(cni, { fakes: f, r: await polygraph(f, 'cluster', 'up', '--cni', cni) });
      }),
    );
  });
  after(() => {
    for (const { fakes: f } of runs.values()) f.cleanup();
  });
  const run = (cni: Cni) => {
    const found = runs.get(cni);
    if (!found) throw new Error(`no run for ${cni}`);
    return found;
  };

  for (const cni of CNIS) {
    it(`--cni ${cni}: runs exactly the documented commands, in order; progress on stderr`, () => {
      const { fakes: f, r } = run(cni);
      expect(r.stderr).not.to.match(/hint:/);
      expect(r.code).to.equal(0);
      expect(f.lines()).to.deep.equal(EXPECTED[cni]);
      expect(f.calls().filter((c) => c.tool === 'helm')).to.deep.equal([]);
      expect(r.stdout).to.include('kubectl context kind-polygraph');
      expect(r.stderr).to.include('$ kind create cluster --name polygraph');
      expect(r.stderr).to.match(/\[\d+\/\d+\] load the probe image into the nodes/);
    });

    it(`--cni ${cni}: the kind config has 1 control plane, 2 workers, the pod subnet, ${cni === 'kindnet' ? 'kindnet kept' : 'the default CNI disabled'}`, () => {
      const config = configOf(run(cni).fakes.calls());
      expect(config).to.deep.include({ kind: 'Cluster', apiVersion: 'kind.x-k8s.io/v1alpha4' });
      expect(config.networking).to.deep.equal({
        disableDefaultCNI: cni !== 'kindnet',
        podSubnet: '10.244.0.0/16',
      });
      expect(config.nodes).to.deep.equal([
        { role: 'control-plane' },
        { role: 'worker' },
        { role: 'worker' },
      ]);
    });
  }

  it('calico: the custom resources applied parse, and the IP pool is the kind podSubnet', () => {
    const calls = run('calico').fakes.calls();
    const apply = calls.find((c) => c.tool === 'kubectl' && c.args.includes('apply'));
    const file = apply?.args[apply.args.indexOf('-f') + 1] ?? '';
    expect(existsSync(file), file).to.equal(true);
    expect(calicoPoolCidrs(file)).to.deep.equal([
      (configOf(calls).networking as { podSubnet: string }).podSubnet,
    ]);
  });

  it('cilium: the values file passed parses and allocates pod IPs from the kind podSubnet', () => {
    const calls = run('cilium').fakes.calls();
    const install = calls.find((c) => c.tool === 'cilium' && c.args[0] === 'install');
    const file = install?.args[install.args.indexOf('--values') + 1] ?? '';
    expect(existsSync(file), file).to.equal(true);
    expect(parse(readFileSync(file, 'utf8'))).to.deep.include({ ipam: { mode: 'kubernetes' } });
  });

  it('--name, --image and --node-image reach kind, kubectl and the image steps; a present image is not pulled', async () => {
    const f = use([{ tool: 'docker', match: ['image', 'inspect'], stdout: 'sha256:abc\n' }]);
    const r = await polygraph(
      f,
      'cluster',
      'up',
      '--cni',
      'kindnet',
      '--name',
      'ci-1',
      '--image',
      'example.com/probe:1',
      '--node-image',
      'kindest/node:v1.34.0',
    );
    expect(r.code).to.equal(0);
    const lines = f.lines();
    expect(lines).to.include('docker image inspect --format {{.Id}} example.com/probe:1');
    expect(lines.filter((l) => l.startsWith('docker pull'))).to.deep.equal([]);
    expect(lines).to.include(
      'kind create cluster --name ci-1 --image kindest/node:v1.34.0 --config -',
    );
    expect(lines).to.include('kind load docker-image example.com/probe:1 --name ci-1');
    expect(
      lines.filter((l) => l.startsWith('kubectl --context')).every((l) => l.includes('kind-ci-1')),
    ).to.equal(true);
  });

  it('docker missing: exit 3 with the install hint, nothing else run', async () => {
    const f = use([], ['docker']);
    const r = await polygraph(f, 'cluster', 'up', '--cni', 'calico');
    expect(r.code).to.equal(3);
    expect(r.stderr).to.include('polygraph: check docker: docker is not installed');
    expect(r.stderr).to.include(
      'hint: install Docker Engine (https://docs.docker.com/engine/install/)',
    );
    expect(f.lines()).to.deep.equal([]);
  });

  it('docker engine down: exit 3 saying the engine does not answer', async () => {
    const f = use([
      {
        tool: 'docker',
        match: ['version'],
        exitCode: 1,
        stderr: 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock.\n',
      },
    ]);
    const r = await polygraph(f, 'cluster', 'up', '--cni', 'kindnet');
    expect(r.code).to.equal(3);
    expect(r.stderr).to.include('docker is installed but its engine does not answer');
    expect(r.stderr).to.include('Cannot connect to the Docker daemon');
    expect(f.lines()).to.deep.equal(['docker version --format {{.Server.Version}}']);
  });

  it('kind too old: exit 3 naming the minimum and how to install the pinned kind', async () => {
    const f = use([
      { tool: 'kind', match: ['version'], stdout: 'kind v0.20.0 go1.20.4 linux/amd64\n' },
    ]);
    const r = await polygraph(f, 'cluster', 'up', '--cni', 'kindnet');
    expect(r.code).to.equal(3);
    expect(r.stderr).to.include('kind v0.20.0 is too old: polygraph needs v0.24.0 or newer');
    expect(r.stderr).to.include('go install sigs.k8s.io/kind@v0.31.0');
    expect(f.lines()).to.deep.equal([
      'docker version --format {{.Server.Version}}',
      'kind version',
    ]);
  });

  it('kubectl too old, cilium CLI missing: exit 3 with their install hints', async () => {
    const old = use([
      {
        tool: 'kubectl',
        match: ['version', '--client'],
        stdout: JSON.stringify({ clientVersion: { gitVersion: 'v1.29.4' } }),
      },
    ]);
    const r1 = await polygraph(old, 'cluster', 'up', '--cni', 'calico');
    expect(r1.code).to.equal(3);
    expect(r1.stderr).to.include('kubectl v1.29.4 is too old: polygraph needs v1.31.0 or newer');
    expect(r1.stderr).to.include('https://dl.k8s.io/release/v1.35.0/bin/linux/amd64/kubectl');
    old.cleanup();
    const f = use([], ['cilium']);
    const r2 = await polygraph(f, 'cluster', 'up', '--cni', 'cilium');
    expect(r2.code).to.equal(3);
    expect(r2.stderr).to.include('cilium is not installed');
    expect(r2.stderr).to.include('cilium-cli/releases/download/v0.19.0/cilium-linux-amd64.tar.gz');
    // The cilium CLI is needed for cilium only.
    const k = use([], ['cilium']);
    expect((await polygraph(k, 'cluster', 'up', '--cni', 'kindnet')).code).to.equal(0);
  });

  it('a failing kubectl wait: exit 3 naming the step, the command and its message; nothing after it runs', async () => {
    const f = use([
      {
        tool: 'kubectl',
        match: ['wait', '--for=condition=Available', 'tigerastatus/calico'],
        exitCode: 1,
        stderr: 'error: timed out waiting for the condition on tigerastatuses/calico\n',
      },
    ]);
    const r = await polygraph(f, 'cluster', 'up', '--cni', 'calico');
    expect(r.code).to.equal(3);
    expect(r.stderr).to.include(
      'polygraph: wait for Calico to be available: `kubectl --context kind-polygraph wait --for=condition=Available --timeout=600s tigerastatus/calico` exited 1',
    );
    expect(r.stderr).to.include('timed out waiting for the condition on tigerastatuses/calico');
    expect(r.stderr).to.include('get tigerastatus,pods -A');
    expect(r.stderr).to.include('polygraph cluster down --name polygraph');
    const lines = f.lines();
    expect(lines.at(-1)).to.equal(
      'kubectl --context kind-polygraph wait --for=condition=Available --timeout=600s tigerastatus/calico',
    );
    expect(lines).to.deep.equal(EXPECTED.calico.slice(0, lines.length));
  });

  it('a failing kind create: exit 3 with kind’s message and no kubectl call', async () => {
    const f = use([
      {
        tool: 'kind',
        match: ['create', 'cluster'],
        exitCode: 1,
        stderr: 'ERROR: failed to create cluster: could not find a log line that matches\n',
      },
    ]);
    const r = await polygraph(f, 'cluster', 'up', '--cni', 'cilium');
    expect(r.code).to.equal(3);
    expect(r.stderr).to.include('create the kind cluster "polygraph"');
    expect(r.stderr).to.include('ERROR: failed to create cluster');
    expect(r.stderr).not.to.include('cluster down');
    expect(f.lines().at(-1)).to.match(/^kind create cluster/);
  });

  it('an existing cluster of that name: exit 3, suggests cluster down; nothing created', async () => {
    const f = use([{ tool: 'kind', match: ['get', 'clusters'], stdout: 'other\npolygraph\n' }]);
    const r = await polygraph(f, 'cluster', 'up', '--cni', 'kindnet');
    expect(r.code).to.equal(3);
    expect(r.stderr).to.include('a kind cluster named "polygraph" already exists');
    expect(f.lines().filter((l) => l.startsWith('kind create'))).to.deep.equal([]);
  });

  it('usage errors are exit 2: no --cni, an unknown CNI, a bad name', async () => {
    const f = use();
    expect((await polygraph(f, 'cluster', 'up')).code).to.equal(2);
    const flannel = await polygraph(f, 'cluster', 'up', '--cni', 'flannel');
    expect(flannel.code).to.equal(2);
    expect(flannel.stderr).to.include('calico');
    expect(
      (await polygraph(f, 'cluster', 'up', '--cni', 'calico', '--name', 'Bad_Name')).code,
    ).to.equal(2);
    expect(f.lines()).to.deep.equal([]);
  });

  it('cluster down: kind version, then kind delete cluster --name; a failure is exit 3', async () => {
    const f = use();
    const r = await polygraph(f, 'cluster', 'down', '--name', 'ci-1');
    expect(r.code).to.equal(0);
    expect(f.lines()).to.deep.equal(['kind version', 'kind delete cluster --name ci-1']);
    expect(r.stdout).to.include('cluster "ci-1" is deleted');
    const g = use([
      { tool: 'kind', match: ['delete'], exitCode: 1, stderr: 'ERROR: failed to delete\n' },
    ]);
    const failed = await polygraph(g, 'cluster', 'down');
    expect(failed.code).to.equal(3);
    expect(failed.stderr).to.include('delete the kind cluster "polygraph"');
    expect(failed.stderr).to.include('ERROR: failed to delete');
    const none = use([], ['kind']);
    const missing = await polygraph(none, 'cluster', 'down');
    expect(missing.code).to.equal(3);
    expect(missing.stderr).to.include('kind is not installed');
  });
});

describe('kind configuration and pinned versions in the repository', () => {
  it('kind-config.yaml at the root is what cluster up generates for Calico and Cilium', () => {
    const file = parse(readFileSync(join(ROOT, 'kind-config.yaml'), 'utf8')) as unknown;
    expect(file).to.deep.equal(kindConfig('calico'));
    expect(file).to.deep.equal(kindConfig('cilium'));
    expect(calicoPoolCidrs(CALICO_CRS)).to.deep.equal([POD_SUBNET]);
  });

  it('the default probe image is probes/Dockerfile’s base image', () => {
    const from = /^FROM (\S+)/m.exec(readFileSync(join(ROOT, 'probes/Dockerfile'), 'utf8'))?.[1];
    expect(VERSIONS.probeImage).to.equal(from).and.to.equal(AGNHOST);
  });

  it('docs/KIND.md and the e2e workflow name the pinned versions', () => {
    const docs = readFileSync(join(ROOT, 'docs/KIND.md'), 'utf8');
    const e2e = readFileSync(join(ROOT, '.github/workflows/e2e.yml'), 'utf8');
    for (const v of [
      VERSIONS.kind.pinned,
      VERSIONS.kind.minimum,
      VERSIONS.nodeImage,
      VERSIONS.kubectl.pinned,
      VERSIONS.kubectl.minimum,
      VERSIONS.calico,
      VERSIONS.cilium,
      VERSIONS.ciliumCli.pinned,
      VERSIONS.probeImage,
    ])
      expect(docs, `docs/KIND.md names ${v}`).to.include(v);
    expect(e2e).to.include(`KIND_VERSION: ${VERSIONS.kind.pinned}`);
    expect(e2e).to.include(`KUBECTL_VERSION: ${VERSIONS.kubectl.pinned}`);
    expect(e2e).to.include(`CILIUM_CLI_VERSION: ${VERSIONS.ciliumCli.pinned}`);
  });
});
