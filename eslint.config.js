// @ts-check
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

/**
 * Layering of src/ (see docs/ARCHITECTURE.md): each folder may import only the folders listed
 * for it. The rule below turns every other internal import into a lint error.
 */
const layers = {
  domain: [],
  model: ['domain'],
  manifest: ['domain', 'model'],
  dsl: ['domain', 'model', 'manifest'],
  plan: ['domain', 'model', 'dsl'],
  cluster: ['domain'],
  probe: ['domain', 'model', 'plan', 'cluster'],
  engine: ['domain', 'model', 'manifest', 'dsl', 'plan', 'cluster', 'probe'],
  compare: ['domain', 'model', 'plan'],
  report: ['domain', 'model', 'manifest', 'plan', 'compare'],
  cli: [
    'domain',
    'model',
    'manifest',
    'dsl',
    'plan',
    'cluster',
    'probe',
    'engine',
    'compare',
    'report',
  ],
};
const all = Object.keys(layers);

const layerRules = Object.entries(layers).map(([layer, allowed]) => ({
  files: [`src/${layer}/**/*.ts`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          ...all
            .filter((other) => other !== layer && !allowed.includes(other))
            .map((other) => ({
              group: [`../${other}/*`, `../../${other}/*`, `../${other}`, `../../${other}`],
              message: `src/${layer} may not import src/${other} (layering: docs/ARCHITECTURE.md)`,
            })),
          ...(layer === 'cluster'
            ? []
            : [
                {
                  group: ['@kubernetes/client-node'],
                  message: 'only src/cluster talks to the Kubernetes client',
                },
              ]),
        ],
      },
    ],
  },
}));

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.lab/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowNumber: true, allowBoolean: true },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/cli/**/*.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'exit', message: 'only src/cli sets the exit status' },
        { object: 'process', property: 'exitCode', message: 'only src/cli sets the exit status' },
      ],
    },
  },
  ...layerRules,
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-expressions': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  { files: ['**/*.js'], ...tseslint.configs.disableTypeChecked },
  prettier,
);
