import { expect } from 'chai';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { execa } from 'execa';
import { readFileSync } from 'node:fs';

/* The published JSON Schema describes what `model -o json` and `explain -o json` print. */
const CLI = new URL('../../dist/cli/main.js', import.meta.url).pathname;
const EXAMPLE = new URL('../../examples/three-tier', import.meta.url).pathname;
const SCHEMA = new URL('../../schemas/model-output.schema.json', import.meta.url);

describe('schemas/model-output.schema.json', function () {
  this.timeout(30_000);
  const validate = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true }).compile(
    JSON.parse(readFileSync(SCHEMA, 'utf8')) as object,
  );
  const check = async (...args: string[]) => {
    const r = await execa('node', [CLI, ...args], { env: { NO_COLOR: '1' } });
    const doc = JSON.parse(r.stdout) as unknown;
    expect(validate(doc), JSON.stringify(validate.errors, null, 2)).to.equal(true);
  };

  it('validates model -o json, with and without provenance', async () => {
    await check('model', '-f', EXAMPLE, '-o', 'json', '--external', 'backup=10.9.0.1');
    await check('model', '-f', EXAMPLE, '-o', 'json', '--probe', 'mysql', '--explain-cells');
  });

  it('validates model and explain -o json with cluster policies (tiers, priorities, actions)', async () => {
    const CLUSTER = new URL('../../examples/cluster-policy', import.meta.url).pathname;
    await check('model', '-f', EXAMPLE, '-f', CLUSTER, '-o', 'json', '--explain-cells');
    await check(
      'explain',
      '-f',
      EXAMPLE,
      '-f',
      CLUSTER,
      '--from',
      'monitoring/prometheus',
      '--to',
      'shop/db',
      '--port',
      '3306',
      '-o',
      'json',
    );
  });

  it('validates explain -o json', async () => {
    await check(
      'explain',
      '-f',
      EXAMPLE,
      '--from',
      'shop/web',
      '--to',
      'shop/db',
      '--port',
      '3306',
      '-o',
      'json',
    );
  });

  it('rejects a document of another shape', () => {
    expect(validate({ apiVersion: 'polygraph.dev/v1alpha1', kind: 'ModelResult' })).to.equal(false);
  });
});
