/**
 * Layering of src/ by zone (docs/ARCHITECTURE.md). Each folder of src/ is a zone that may import
 * only the zones listed for it, at any path depth: dependency-cruiser resolves every import to a
 * file before the rules are applied. Run by `npm run lint`; test/unit/architecture.test.ts also
 * proves that the rules catch a deep relative import.
 */
const layers = {
  domain: [],
  model: ['domain'],
  manifest: ['domain', 'model'],
  dsl: ['domain', 'model', 'manifest'],
  plan: ['domain', 'model', 'dsl'],
  compare: ['domain', 'model', 'dsl', 'plan'],
  cluster: ['domain'],
  kind: ['domain'],
  probe: ['domain', 'model', 'plan', 'cluster'],
  engine: ['domain', 'model', 'manifest', 'dsl', 'plan', 'compare', 'cluster', 'probe'],
  fuzz: ['domain', 'model', 'manifest', 'dsl', 'plan', 'compare', 'cluster', 'probe', 'engine'],
  report: ['domain', 'model', 'manifest', 'dsl', 'plan', 'compare', 'engine', 'fuzz'],
  cli: [
    'domain',
    'model',
    'manifest',
    'dsl',
    'plan',
    'compare',
    'cluster',
    'probe',
    'engine',
    'fuzz',
    'report',
    'kind',
  ],
};
const zones = Object.keys(layers);

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'src/ has no import cycles',
      from: { path: '^src/' },
      to: { circular: true },
    },
    ...zones.map((zone) => ({
      name: `layer-${zone}`,
      severity: 'error',
      comment: `src/${zone} may import only ${layers[zone].length > 0 ? layers[zone].join(', ') : 'nothing internal'}`,
      from: { path: `^src/${zone}/` },
      to: {
        path: `^src/(${zones.filter((z) => z !== zone && !layers[zone].includes(z)).join('|')})/`,
      },
    })),
    {
      name: 'library-api-is-re-exports',
      severity: 'error',
      comment: 'src/index.ts re-exports; nothing inside src/ imports it',
      from: { path: '^src/.+/' },
      to: { path: '^src/index\\.ts$' },
    },
    {
      name: 'kubernetes-client-only-in-cluster',
      severity: 'error',
      comment: 'only src/cluster talks to the Kubernetes client',
      from: { path: '^src/', pathNot: '^src/cluster/' },
      to: { path: 'node_modules/@kubernetes/client-node/' },
    },
    {
      name: 'src-never-imports-tests',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
