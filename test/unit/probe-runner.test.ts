import { expect } from 'chai';
import type { Job, RunnableJob } from '../../src/domain/job.js';
import type { ProbeJob, ProbeOutcome, ProbeResult } from '../../src/probe/batch-protocol.js';
import type { ProbeSource } from '../../src/probe/batch.js';
import { ProbeRunner, type LivePod, type RunBatch } from '../../src/probe/probe-runner.js';

const live = (namespace: string, name: string, ip: string | undefined): LivePod => ({
  namespace,
  name,
  ip,
  container: 'serve-80',
});

const pods = new Map<string, LivePod>([
  ['x/a', live('x', 'a', '10.244.0.11')],
  ['x/b', live('x', 'b', '10.244.0.12')],
  ['y/a', live('y', 'a', '10.244.0.21')],
  ['y/p', live('y', 'p', undefined)],
]);

/** A job as plan/ hands it over: a named probe comes with the port it resolved to. */
const job = (
  from: string,
  to: string,
  port: number | string,
  protocol = 'TCP',
  resolved = typeof port === 'number' ? port : 80,
): RunnableJob => ({
  job: { from, to, probe: { port, protocol: protocol as Job['probe']['protocol'] } },
  port: resolved,
});

interface Call {
  source: ProbeSource;
  jobs: readonly ProbeJob[];
}

/** A fake batch: records each call and answers every probe by host:port/protocol. */
function fakeBatch(answer: (job: ProbeJob) => ProbeOutcome, calls: Call[] = []): RunBatch {
  return (source, jobs) => {
    calls.push({ source, jobs });
    return Promise.resolve(
      jobs.map((j): ProbeResult => ({
        id: j.id,
        outcome: answer(j),
        elapsedMs: 3,
        detail: 'fake',
      })),
    );
  };
}

describe('ProbeRunner (fake runBatch)', () => {
  it('runs one batch per source pod, with every probe of that pod, to destination IPs', async () => {
    const calls: Call[] = [];
    const runner = new ProbeRunner(
      pods,
      { timeoutSeconds: 2 },
      fakeBatch(() => 'allowed', calls),
    );
    const jobs = [
      job('x/a', 'x/b', 80),
      job('y/a', 'x/a', 81, 'UDP'),
      job('x/a', 'y/a', 80, 'UDP'),
      job('x/a', 'x/a', 80),
    ];
    const results = await runner.run(jobs);
    expect(results.map((r) => r.outcome)).to.deep.equal([
      'allowed',
      'allowed',
      'allowed',
      'allowed',
    ]);
    expect(results.map((r) => r.job)).to.deep.equal(jobs.map((j) => j.job));
    const bySource = Object.fromEntries(
      calls.map((c) => [
        `${c.source.namespace}/${c.source.pod}`,
        c.jobs.map((j) => `${j.host}:${String(j.port)}/${j.protocol}/${String(j.timeoutSeconds)}`),
      ]),
    );
    expect(bySource).to.deep.equal({
      'x/a': ['10.244.0.12:80/TCP/2', '10.244.0.21:80/UDP/2', '10.244.0.11:80/TCP/2'],
      'y/a': ['10.244.0.11:81/UDP/2'],
    });
    expect(calls.every((c) => c.source.container === 'serve-80')).to.equal(true);
  });

  it('maps each probe outcome to its own outcome, keeping the detail', async () => {
    const byPort: Record<number, ProbeOutcome> = {
      1: 'allowed',
      2: 'refused',
      3: 'dropped',
      4: 'probe-error',
    };
    const runner = new ProbeRunner(
      pods,
      {},
      fakeBatch((j) => byPort[j.port] ?? 'probe-error'),
    );
    const results = await runner.run([1, 2, 3, 4].map((port) => job('x/a', 'x/b', port)));
    expect(results.map((r) => r.outcome)).to.deep.equal([
      'allowed',
      'refused',
      'dropped',
      'probe-error',
    ]);
    expect(results[1]?.detail).to.equal('fake (3 ms)');
  });

  it('probes the port plan/ resolved for a named probe, never resolving names itself', async () => {
    const calls: Call[] = [];
    const runner = new ProbeRunner(
      pods,
      {},
      fakeBatch(() => 'allowed', calls),
    );
    const results = await runner.run([job('x/a', 'x/b', 'serve-80-udp', 'UDP', 8080)]);
    expect(results.map((r) => r.outcome)).to.deep.equal(['allowed']);
    expect(results[0]?.job.probe.port).to.equal('serve-80-udp');
    expect(
      calls.flatMap((c) => c.jobs.map((j) => `${String(j.port)}/${j.protocol}`)),
    ).to.deep.equal(['8080/UDP']);
  });

  it('skips what it cannot run, with the reason, and never calls it a denial', async () => {
    const calls: Call[] = [];
    const jobs = [
      job('q/q', 'x/a', 80),
      job('x/a', 'q/q', 80),
      job('x/a', 'y/p', 80),
      job('x/a', 'x/b', 80, 'SCTP'),
    ];
    const told = new ProbeRunner(
      pods,
      { sctp: false },
      fakeBatch(() => 'refused', calls),
    );
    const results = await told.run(jobs);
    expect(results.map((r) => [r.outcome, r.detail])).to.deep.equal([
      ['skipped', 'source q/q is not a known pod'],
      ['skipped', 'destination q/q is not a known pod'],
      ['skipped', 'destination y/p has no IP'],
      ['skipped', 'the cluster cannot carry SCTP'],
    ]);
    expect(calls).to.deep.equal([]);
    const [sctp] = await new ProbeRunner(
      pods,
      {},
      fakeBatch(() => 'refused'),
    ).run([job('x/a', 'x/b', 80, 'SCTP')]);
    expect(sctp?.outcome).to.equal('skipped');
  });

  it('turns a batch that returns fewer results into probe-errors, not denials', async () => {
    const short: RunBatch = (_source, jobs) =>
      Promise.resolve(
        jobs
          .slice(1)
          .map((j) => ({ id: j.id, outcome: 'refused' as const, elapsedMs: 1, detail: '' })),
      );
    const results = await new ProbeRunner(pods, {}, short).run([
      job('x/a', 'x/b', 80),
      job('x/a', 'x/b', 81),
    ]);
    expect(results.map((r) => r.outcome)).to.deep.equal(['probe-error', 'probe-error']);
  });

  it('runs at most `concurrency` source pods at once', async () => {
    let running = 0;
    let peak = 0;
    const slow: RunBatch = async (_source, jobs) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setTimeout(resolve, 5));
      running--;
      return jobs.map((j) => ({ id: j.id, outcome: 'allowed' as const, elapsedMs: 1, detail: '' }));
    };
    const many = new Map<string, LivePod>();
    for (let i = 0; i < 6; i++)
      many.set(`n/p${String(i)}`, live('n', `p${String(i)}`, `10.0.0.${String(i + 1)}`));
    const jobs = [...many.keys()].map((from) => job(from, 'n/p0', 80));
    const results = await new ProbeRunner(many, { concurrency: 2 }, slow).run(jobs);
    expect(results).to.have.length(6);
    expect(peak).to.equal(2);
  });

  it('rejects options it could not honour', () => {
    expect(
      () =>
        new ProbeRunner(
          pods,
          { concurrency: 0 },
          fakeBatch(() => 'allowed'),
        ),
    ).to.throw(/concurrency/);
    expect(
      () =>
        new ProbeRunner(
          pods,
          { timeoutSeconds: 0.5 },
          fakeBatch(() => 'allowed'),
        ),
    ).to.throw(/timeoutSeconds/);
  });

  it('probes a cell of a dual-stack pod once per family, each to the address of its family', async () => {
    const calls: Call[] = [];
    const dual = new Map<string, LivePod>([
      ['x/a', { ...live('x', 'a', '10.244.0.11'), ips: ['10.244.0.11', 'fd00:10:244::11'] }],
      ['x/b', { ...live('x', 'b', 'fd00:10:244::12'), ips: ['fd00:10:244::12', '10.244.0.12'] }],
      ['x/v4', { ...live('x', 'v4', '10.244.0.13'), ips: ['10.244.0.13'] }],
    ]);
    const runner = new ProbeRunner(
      dual,
      {},
      fakeBatch((j) => (j.host.includes(':') ? 'dropped' : 'allowed'), calls),
    );
    const of = (to: string, family?: 4 | 6): RunnableJob => ({
      job: {
        from: 'x/a',
        to,
        probe: { port: 80, protocol: 'TCP' },
        ...(family === undefined ? {} : { family }),
      },
      port: 80,
    });
    const results = await runner.run([of('x/b', 4), of('x/b', 6), of('x/v4', 6), of('x/b')]);
    // One cell (x/a → x/b on 80/TCP) is two probes, one to each address; no family: the primary.
    expect(calls.flatMap((c) => c.jobs.map((j) => j.host))).to.deep.equal([
      '10.244.0.12',
      'fd00:10:244::12',
      'fd00:10:244::12',
    ]);
    expect(results.map((r) => r.outcome)).to.deep.equal([
      'allowed',
      'dropped',
      'skipped',
      'dropped',
    ]);
    expect(results[2]?.detail).to.equal('destination x/v4 has no IPv6 address');
    expect(results[1]?.job.family).to.equal(6);
  });
});
