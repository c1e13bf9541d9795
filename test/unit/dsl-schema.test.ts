import { expect } from 'chai';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { scenarioJsonSchema } from '../../src/dsl/schema.js';

const PUBLISHED = 'schemas/scenario.schema.json';

function scenarioFiles(): string[] {
  const found: string[] = [];
  if (existsSync('scenarios'))
    for (const f of readdirSync('scenarios'))
      if (f.endsWith('.yaml')) found.push(join('scenarios', f));
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir)) {
      const full = join(dir, entry);
      if (statSync(full).isDirectory()) walk(full);
      else if (entry.endsWith('.scenario.yaml')) found.push(full);
    }
  };
  if (existsSync('examples')) walk('examples');
  return found.sort();
}

describe('scenario JSON Schema', () => {
  it(`${PUBLISHED} is what npm run schema writes`, () => {
    const published = JSON.parse(readFileSync(PUBLISHED, 'utf8')) as unknown;
    expect(published, 'run npm run schema and commit the result').to.deep.equal(
      scenarioJsonSchema(),
    );
  });

  it('accepts every scenario of scenarios/ and examples/ (checked by ajv, independently of zod)', () => {
    const ajv = new Ajv2020.default({ allErrors: true, strict: false });
    const validate = ajv.compile(JSON.parse(readFileSync(PUBLISHED, 'utf8')) as object);
    const files = scenarioFiles();
    expect(files).to.include('scenarios/three-tier.yaml');
    expect(files.length).to.be.at.least(12);
    for (const file of files) {
      // kubectl's reading (YAML 1.1), as polygraph reads scenarios.
      const value = parse(readFileSync(file, 'utf8'), { version: '1.1' }) as unknown;
      const ok = validate(value);
      expect(ok, `${file}: ${ajv.errorsText(validate.errors)}`).to.equal(true);
    }
  });

  it('rejects what the shape phase rejects, for a few telling cases', () => {
    const ajv = new Ajv2020.default({ allErrors: true, strict: false });
    const validate = ajv.compile(JSON.parse(readFileSync(PUBLISHED, 'utf8')) as object);
    const base = {
      apiVersion: 'polygraph.dev/v1alpha1',
      kind: 'Scenario',
      metadata: { name: 'x' },
      topology: {},
    };
    expect(validate(base)).to.equal(true);
    expect(validate({ ...base, kind: 'Other' })).to.equal(false);
    expect(validate({ ...base, steps: [{ name: 's', actions: [{ lable: {} }] }] })).to.equal(false);
    expect(validate({ ...base, expect: { rules: [{ 'form x': 'allow' }] } })).to.equal(false);
  });
});
