/**
 * Every version `polygraph cluster up` depends on, in one table (also in docs/KIND.md; a unit test
 * keeps the two, the e2e workflow and probes/Dockerfile in step). `pinned` is what the e2e
 * workflow installs and what was verified together; `minimum` is what the preflight accepts.
 */
export const VERSIONS = {
  /** kind ≥ v0.24 enforces NetworkPolicy with its default CNI (kindnet + kube-network-policies). */
  kind: { pinned: 'v0.31.0', minimum: 'v0.24.0' },
  /** kind v0.31.0's own default node image (sigs.k8s.io/kind pkg/apis/config/defaults). */
  nodeImage:
    'kindest/node:v1.35.0@sha256:452d707d4862f52530247495d180205e029056831160e22870e37e3f6c1ac31f',
  /** `kubectl wait --for=create` (used while the Tigera operator creates its status) needs 1.31. */
  kubectl: { pinned: 'v1.35.0', minimum: 'v1.31.0' },
  /** Calico Open Source, installed by the Tigera operator (operator v1.40.3). */
  calico: 'v3.31.3',
  /** Cilium, installed by the cilium CLI. */
  cilium: '1.19.3',
  ciliumCli: { pinned: 'v0.19.0', minimum: 'v0.19.0' },
  /** The default probe image: public, pinned, the same as probes/Dockerfile's base. */
  probeImage: 'registry.k8s.io/e2e-test-images/agnhost:2.53',
} as const;

/** Where each tool comes from, for the "missing or too old" hints. */
export const INSTALL_HINTS = {
  docker: 'install Docker Engine (https://docs.docker.com/engine/install/) and start it',
  kind: `install kind ${VERSIONS.kind.pinned}: go install sigs.k8s.io/kind@${VERSIONS.kind.pinned}, or download https://kind.sigs.k8s.io/dl/${VERSIONS.kind.pinned}/kind-linux-amd64 (https://kind.sigs.k8s.io/docs/user/quick-start/#installation)`,
  kubectl: `install kubectl ${VERSIONS.kubectl.pinned}: https://dl.k8s.io/release/${VERSIONS.kubectl.pinned}/bin/linux/amd64/kubectl (https://kubernetes.io/docs/tasks/tools/)`,
  cilium: `install the cilium CLI ${VERSIONS.ciliumCli.pinned}: https://github.com/cilium/cilium-cli/releases/download/${VERSIONS.ciliumCli.pinned}/cilium-linux-amd64.tar.gz (https://docs.cilium.io/en/stable/gettingstarted/k8s-install-default/#install-the-cilium-cli)`,
} as const;

/** Manifests of the pinned Calico release, applied by URL (Calico's documented install). */
export const CALICO_MANIFESTS = {
  operatorCrds: `https://raw.githubusercontent.com/projectcalico/calico/${VERSIONS.calico}/manifests/operator-crds.yaml`,
  tigeraOperator: `https://raw.githubusercontent.com/projectcalico/calico/${VERSIONS.calico}/manifests/tigera-operator.yaml`,
} as const;

/** How long each kind of wait may take, in seconds (the tool's own timeout; ours adds a margin). */
export const TIMEOUTS = {
  crdEstablished: 120,
  rollout: 300,
  calicoAvailable: 600,
  ciliumStatus: 600,
  nodesReady: 300,
  /** kind create, docker pull, kind load, kind delete: no timeout flag, ours only. */
  slowCommand: 900,
} as const;
