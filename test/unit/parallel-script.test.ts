import { expect } from 'chai';
import { execa } from 'execa';
import { ROOT } from '../support/scenarios.js';

/** scripts/parallel.js: the independent checks of npm test at once, outputs never interleaved. */
describe('scripts/parallel.js', () => {
  const parallel = (...commands: string[]) =>
    execa('node', ['scripts/parallel.js', ...commands], { cwd: ROOT, reject: false });

  it('runs the commands at once and prints each one’s output whole, in the order they end', async () => {
    const r = await parallel(
      'echo slow-1; sleep 0.6; echo slow-2',
      'echo fast-1 >&2; sleep 0.1; echo fast-2',
    );
    expect(r.exitCode).to.equal(0);
    const lines = r.stdout.split('\n').map((l) => l.replace(/ in [0-9.]+ s$/, ''));
    expect(lines).to.deep.equal([
      '--- echo fast-1 >&2; sleep 0.1; echo fast-2: ok',
      'fast-1',
      'fast-2',
      '--- echo slow-1; sleep 0.6; echo slow-2: ok',
      'slow-1',
      'slow-2',
    ]);
  });

  it('exits 1 when any command fails, after every command has ended, naming how it failed', async () => {
    const r = await parallel('exit 3', 'sleep 0.3; echo done', 'kill -TERM $$');
    expect(r.exitCode).to.equal(1);
    expect(r.stdout).to.include('--- exit 3: FAILED (exit 3)');
    expect(r.stdout).to.include('--- kill -TERM $$: FAILED (SIGTERM)');
    expect(r.stdout).to.match(/--- sleep 0\.3; echo done: ok in [0-9.]+ s\ndone/);
  });

  it('exits 2 with its usage when given no command', async () => {
    const r = await parallel();
    expect(r.exitCode).to.equal(2);
    expect(r.stderr).to.equal('usage: node scripts/parallel.js COMMAND...');
  });
});
