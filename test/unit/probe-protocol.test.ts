import { expect } from 'chai';
import {
  formatJob,
  matchResults,
  parseProbeOutput,
  type ProbeJob,
} from '../../src/probe/batch-protocol.js';

const job = (id: string, protocol: 'TCP' | 'UDP' = 'TCP'): ProbeJob => ({
  id,
  host: '10.244.0.7',
  port: 80,
  protocol,
  timeoutSeconds: 1,
});

describe('batched probe protocol (probes/probe.sh)', () => {
  it('formats one argument per job and refuses what the script could not carry', () => {
    expect(formatJob(job('x/a->y/b:80/TCP'))).to.equal('x/a->y/b:80/TCP,10.244.0.7,80,TCP,1');
    expect(() => formatJob({ ...job('a b') })).to.throw(/no blanks or commas/);
    expect(() => formatJob({ ...job('a'), port: 0 })).to.throw(/out of range/);
    expect(() => formatJob({ ...job('a'), timeoutSeconds: 0.5 })).to.throw(/whole number/);
  });

  it('parses result lines and the DONE count, keeping stray lines aside', () => {
    const parsed = parseProbeOutput(
      'PROBE\ta\tallowed\t12\tconnected\nnoise from the shell\nPROBE\tb\tdropped\t1003\tno reply\tafter 1 s\nPROBE\tc\tmaybe\t5\t?\nDONE\t3\n',
    );
    expect(parsed.results).to.deep.equal([
      { id: 'a', outcome: 'allowed', elapsedMs: 12, detail: 'connected' },
      { id: 'b', outcome: 'dropped', elapsedMs: 1003, detail: 'no reply\tafter 1 s' },
    ]);
    expect(parsed.done).to.equal(3);
    expect(parsed.unparsed).to.deep.equal(['noise from the shell', 'PROBE\tc\tmaybe\t5\t?']);
  });

  it('never turns a missing result into a denial: it is a probe-error with the reason', () => {
    const jobs = [job('a'), job('b', 'UDP')];
    const cut = matchResults(jobs, parseProbeOutput('PROBE\ta\trefused\t3\tConnection refused\n'));
    expect(cut).to.deep.equal([
      { id: 'a', outcome: 'refused', elapsedMs: 3, detail: 'Connection refused' },
      { id: 'b', outcome: 'probe-error', elapsedMs: 0, detail: 'probe output ended before DONE' },
    ]);
    const failed = matchResults(jobs, parseProbeOutput(''), 'exec failed: pod x/a not found');
    expect(failed.map((r) => [r.outcome, r.detail])).to.deep.equal([
      ['probe-error', 'exec failed: pod x/a not found'],
      ['probe-error', 'exec failed: pod x/a not found'],
    ]);
  });
});
