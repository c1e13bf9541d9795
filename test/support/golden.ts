import { expect } from 'chai';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const GOLDEN = new URL('../golden/', import.meta.url).pathname;

/**
 * Compares with a golden file under test/golden (each checked by hand when written).
 * UPDATE_GOLDEN=1 rewrites it after an intended change of the rendering, and then fails: a
 * rewritten file compared with itself proves nothing until a person has read the diff.
 */
export async function matchesGolden(name: string, actual: string): Promise<void> {
  const file = join(GOLDEN, name);
  if (process.env.UPDATE_GOLDEN === '1') {
    await writeFile(file, `${actual}\n`);
    expect.fail(
      `rewrote test/golden/${name}: review the diff (git diff test/golden), then rerun without UPDATE_GOLDEN`,
    );
  }
  expect(actual).to.equal((await readFile(file, 'utf8')).replace(/\n$/, ''));
}
