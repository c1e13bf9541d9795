import { expect } from 'chai';
import { cruise, type ICruiseResult } from 'dependency-cruiser';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/*
 * The layering of src/ (.dependency-cruiser.cjs, also run by `npm run lint`): zones, not path
 * depths, and no cycles. The rules are run on src/ itself and on a throwaway tree that breaks
 * them, so a rule that stopped matching would fail here.
 */
const ROOT = new URL('../../', import.meta.url).pathname;
const config = createRequire(import.meta.url)(join(ROOT, '.dependency-cruiser.cjs')) as {
  forbidden: NonNullable<Parameters<typeof cruise>[1]>['ruleSet'] extends infer R
    ? R extends { forbidden?: infer F }
      ? F
      : never
    : never;
};

async function violations(baseDir: string): Promise<string[]> {
  const result = await cruise(
    ['src'],
    {
      baseDir,
      ruleSet: { forbidden: config.forbidden },
      validate: true,
      tsPreCompilationDeps: true,
      doNotFollow: { path: 'node_modules' },
    },
    undefined,
    { tsConfig: { fileName: join(ROOT, 'tsconfig.json') } },
  );
  const output = result.output as ICruiseResult;
  return output.summary.violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`);
}

describe('architecture', function () {
  this.timeout(60_000);

  it('src/ keeps its layers and has no import cycles', async () => {
    expect(await violations(ROOT)).to.deep.equal([]);
  });

  it('catches a forbidden import at any depth, and a cycle', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'polygraph-layers-'));
    try {
      const write = (path: string, text: string): void => {
        mkdirSync(join(dir, path, '..'), { recursive: true });
        writeFileSync(join(dir, path), text);
      };
      copyFileSync(join(ROOT, 'tsconfig.json'), join(dir, 'tsconfig.json'));
      write(
        'src/model/a/b/deep.ts',
        "import { x } from '../../../cluster/y.js';\nexport const z = x;\n",
      );
      write('src/cluster/y.ts', 'export const x = 1;\n');
      write('src/plan/p.ts', "import { q } from './q.js';\nexport const p = () => q;\n");
      write('src/plan/q.ts', "import { p } from './p.js';\nexport const q = () => p;\n");
      const found = await violations(dir);
      expect(found).to.include('layer-model: src/model/a/b/deep.ts -> src/cluster/y.ts');
      expect(found.filter((v) => v.startsWith('no-circular:'))).to.have.length.greaterThan(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
