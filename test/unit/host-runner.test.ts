import { expect } from 'chai';
import type { Job, RunnableJob } from '../../src/domain/job.js';
import { ProbeRunner, type LivePod, type RunBatch } from '../../src/probe/probe-runner.js';
import {
  hostBatch,
  runHostCommand,
  type HostCommandResult,
  type RunHostCommand,
} from '../../src/probe/host-runner.js';
import { externalExecArg } from '../../src/cli/options.js';

const targets = new Map<string, LivePod>([
  ['x/a', { namespace: 'x-r', name: 'a', ip: '10.244.0.11', container: 'serve' }],
  ['x/b', { namespace: 'x-r', name: 'b', ip: '10.244.0.12', container: 'serve' }],
  ['x/c', { namespace: 'x-r', name: 'c', ip: undefined, container: 'serve' }],
]);

const job = (from: string, to: string, port: number, protocol = 'TCP'): RunnableJob => ({
  job: { from, to, probe: { port, protocol: protocol as Job['probe']['protocol'] } },
  port,
});

/** The cluster runner with these hosts as sources; a pod batch fails the test. */
function hostRunner(
  hosts: ReadonlyMap<string, readonly string[]>,
  pods: ReadonlyMap<string, LivePod>,
  options: { timeoutSeconds?: number },
  run: RunHostCommand,
  podBatch: RunBatch = () => Promise.reject(new Error('no pod batch expected')),
): ProbeRunner {
  return new ProbeRunner(
    pods,
    {
      ...options,
      hosts: new Map([...hosts].map(([from, prefix]) => [from, hostBatch(from, prefix, run)])),
    },
    podBatch,
  );
}

/** Records each command; answers with the script's protocol for the jobs it was given. */
function recorder(answer: (jobs: string[]) => HostCommandResult) {
  const calls: { argv: readonly string[]; timeoutMs: number }[] = [];
  const run: RunHostCommand = (argv, timeoutMs) => {
    calls.push({ argv, timeoutMs });
    const at = argv.indexOf('probe.sh');
    return Promise.resolve(answer(argv.slice(at + 1)));
  };
  return { calls, run };
}

const line = (id: string, outcome: string, ms: number, detail: string) =>
  `PROBE\t${id}\t${outcome}\t${String(ms)}\t${detail}`;

describe('host runner (probes from hosts outside the cluster)', () => {
  it('runs all of a host’s jobs in one command: its prefix, then the probe client with one argument per job', async () => {
    const { calls, run } = recorder((jobs) => ({
      exitCode: 0,
      stdout: [
        line('j0', 'allowed', 3, 'connected'),
        line('j1', 'refused', 2, 'Connection refused'),
        `DONE\t${String(jobs.length)}`,
      ].join('\n'),
      stderr: '',
    }));
    const hosts = new Map([['ext:backup', ['ip', 'netns', 'exec', 'pg-ext1']]]);
    const results = await hostRunner(hosts, targets, { timeoutSeconds: 2 }, run).run([
      job('ext:backup', 'x/a', 80),
      job('ext:backup', 'x/b', 443),
    ]);
    expect(calls).to.have.length(1);
    const argv = calls[0]?.argv ?? [];
    expect(argv.slice(0, 6)).to.deep.equal(['ip', 'netns', 'exec', 'pg-ext1', 'bash', '-c']);
    expect(argv.slice(-3)).to.deep.equal([
      'probe.sh',
      'j0,10.244.0.11,80,TCP,2',
      'j1,10.244.0.12,443,TCP,2',
    ]);
    expect(calls[0]?.timeoutMs).to.equal(32_000);
    expect(results.map((r) => [r.job.to, r.outcome, r.detail])).to.deep.equal([
      ['x/a', 'allowed', 'connected (3 ms)'],
      ['x/b', 'refused', 'Connection refused (2 ms)'],
    ]);
  });

  it('a failing or silent command makes probe-errors with the reason and a command to reproduce — never a denial', async () => {
    const hosts = new Map([['ext:h', ['docker', 'exec', 'h']]]);
    const jobs = [job('ext:h', 'x/a', 80), job('ext:h', 'x/b', 80)];
    const failed = await hostRunner(hosts, targets, {}, () =>
      Promise.resolve({
        exitCode: 1,
        stdout: line('j0', 'allowed', 1, 'connected'),
        stderr: 'Error: No such container: h',
      }),
    ).run(jobs);
    expect(failed[0]?.outcome).to.equal('allowed');
    expect(failed[1]?.outcome).to.equal('probe-error');
    expect(failed[1]?.detail).to.include(
      'probe client on ext:h exited 1: Error: No such container: h',
    );
    expect(failed[1]?.detail).to.include(
      'reproduce: docker exec h bash probe.sh j0,10.244.0.11,80,TCP,1 j1,10.244.0.12,80,TCP,1',
    );

    const hung = await hostRunner(hosts, targets, {}, () =>
      Promise.resolve({
        exitCode: undefined,
        stdout: '',
        stderr: '',
        failure: 'no answer within 31000 ms',
      }),
    ).run(jobs);
    expect(hung.map((r) => r.outcome)).to.deep.equal(['probe-error', 'probe-error']);
    expect(hung[0]?.detail).to.include(
      'probing from ext:h with `docker exec h` failed: no answer within 31000 ms',
    );

    const cut = await hostRunner(hosts, targets, {}, () =>
      Promise.resolve({
        exitCode: 0,
        stdout: line('j1', 'dropped', 1000, 'timed out'),
        stderr: '',
      }),
    ).run(jobs);
    expect(cut.map((r) => r.outcome)).to.deep.equal(['probe-error', 'dropped']);
    expect(cut[0]?.detail).to.include('probe output ended before DONE');
  });

  it('skips what it cannot probe, with the reason, and runs nothing for it', async () => {
    const { calls, run } = recorder(() => ({ exitCode: 0, stdout: 'DONE\t0', stderr: '' }));
    const hosts = new Map([['ext:h', ['ssh', 'bastion']]]);
    const results = await hostRunner(hosts, targets, {}, run).run([
      job('ext:other', 'x/a', 80),
      job('ext:h', 'x/c', 80),
      job('ext:h', 'x/a', 80, 'SCTP'),
    ]);
    expect(calls).to.have.length(0);
    expect(results.map((r) => [r.outcome, r.detail])).to.deep.equal([
      ['skipped', 'no command runs probes on ext:other (see --external-exec)'],
      ['skipped', 'destination x/c has no IP'],
      ['skipped', 'the probe client (probes/probe.sh) has no SCTP probe'],
    ]);
  });

  it('one run mixes pod and host sources: each source one batch, results in job order', async () => {
    const { calls, run } = recorder((jobs) => ({
      exitCode: 0,
      stdout: [...jobs.map((j) => line(j.split(',')[0] ?? '', 'refused', 1, 'r')), 'DONE'].join(
        '\n',
      ),
      stderr: '',
    }));
    const podCalls: string[] = [];
    const runner = hostRunner(
      new Map([['ext:h', ['ssh', 'h']]]),
      targets,
      { timeoutSeconds: 1 },
      run,
      (source, jobs) => {
        podCalls.push(`${source.namespace}/${source.pod}:${jobs.map((j) => j.id).join(',')}`);
        return Promise.resolve(
          jobs.map((j) => ({ id: j.id, outcome: 'allowed' as const, elapsedMs: 1, detail: 'ok' })),
        );
      },
    );
    const results = await runner.run([
      job('x/a', 'x/b', 80),
      job('ext:h', 'x/a', 80),
      job('x/b', 'x/a', 80),
      job('ext:h', 'x/b', 81),
      job('x/a', 'x/b', 81),
    ]);
    expect(results.map((r) => `${r.job.from}>${r.job.to}:${r.outcome}`)).to.deep.equal([
      'x/a>x/b:allowed',
      'ext:h>x/a:refused',
      'x/b>x/a:allowed',
      'ext:h>x/b:refused',
      'x/a>x/b:allowed',
    ]);
    expect(calls).to.have.length(1);
    expect(calls[0]?.argv.slice(-2)).to.deep.equal([
      'j1,10.244.0.11,80,TCP,1',
      'j3,10.244.0.12,81,TCP,1',
    ]);
    expect(podCalls.sort()).to.deep.equal(['x-r/a:j0,j4', 'x-r/b:j2']);
  });

  it('runHostCommand reports exit codes, a missing program and a deadline as such', async () => {
    const ok = await runHostCommand(['bash', '-c', 'echo out; echo err >&2; exit 3'], 5000);
    expect(ok).to.deep.include({ exitCode: 3, stdout: 'out', stderr: 'err' });
    expect(ok.failure).to.equal(undefined);
    const missing = await runHostCommand(['polygraph-no-such-program'], 5000);
    expect(missing.failure).to.match(/ENOENT|not found/);
    const slow = await runHostCommand(['sleep', '5'], 200);
    expect(slow.failure).to.equal('no answer within 200 ms');
  });

  it('--external-exec takes NAME=COMMAND, split on blanks', () => {
    expect(externalExecArg('ext1=ip netns  exec pg-ext1')).to.deep.equal({
      name: 'ext1',
      command: ['ip', 'netns', 'exec', 'pg-ext1'],
    });
    expect(() => externalExecArg('docker exec x')).to.throw('expected NAME=COMMAND');
    expect(() => externalExecArg('x=')).to.throw('expected NAME=COMMAND');
    expect(() => externalExecArg('x y=ls')).to.throw('not a usable name');
  });
});
