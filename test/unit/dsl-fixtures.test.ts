import { expect } from 'chai';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../src/domain/errors.js';
import { formatIssue } from '../../src/domain/issue.js';
import { loadScenario } from '../../src/dsl/load.js';

/*
 * Broken scenarios: each test/fixtures/scenarios/broken/NAME.yaml has a sibling
 * NAME.expected.txt with the exact issues, one formatted issue a line (paths relative to the
 * repository root, where the tests run). Files the scenarios refer to live in files/.
 * To add a case, add both files.
 */
const DIR = 'test/fixtures/scenarios/broken';

async function issuesOf(file: string): Promise<string[]> {
  try {
    await loadScenario(file);
  } catch (error) {
    if (error instanceof InputError) return error.issues.map(formatIssue);
    throw error;
  }
  return [];
}

describe('broken scenarios: every issue, with its exact message and location', () => {
  const names = readdirSync(DIR)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.slice(0, -'.yaml'.length))
    .sort();

  it('has a corpus', () => {
    expect(names.length).to.be.greaterThanOrEqual(30);
  });

  for (const name of names) {
    it(name, async () => {
      const expectedFile = join(DIR, `${name}.expected.txt`);
      expect(existsSync(expectedFile), `${expectedFile} is missing`).to.equal(true);
      const expected = readFileSync(expectedFile, 'utf8').split('\n').filter(Boolean);
      const found = await issuesOf(join(DIR, `${name}.yaml`));
      expect(found).to.deep.equal(expected);
      expect(found.join('\n')).not.to.match(/Invalid input|Invalid option|Unrecognized key/);
    });
  }
});
