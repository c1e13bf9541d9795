/**
 * Probe sessions (src/probe/session.ts) against fake exec streams that answer late, split and
 * interleave their lines, lose the connection, exit, or never start; and against the real probe
 * client (probes/probe.sh --session) run by a local bash against servers on this host's loopback
 * (TCP through a stand-in for netcat) — nothing is sent off this host. The lab
 * proves sessions on Kubernetes (test/e2e/session.e2e.ts, npm run bench:probe).
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ClusterError,
  type Cluster,
  type ExecEnd,
  type ExecOutputListener,
  type ExecStream,
} from '../../src/cluster/index.js';
import type { ProbeJob, ProbeResult } from '../../src/probe/batch-protocol.js';
import { runProbeBatch, sessionCommand, type ProbeSource } from '../../src/probe/batch.js';
import { ProbeSessions, type OneExecBatch, type OpenSessionExec } from '../../src/probe/session.js';

const SOURCE: ProbeSource = { namespace: 'x', pod: 'a', container: 'probe' };
const OTHER: ProbeSource = { namespace: 'y', pod: 'b', container: 'probe' };

const job = (id: string, port = 80, protocol: 'TCP' | 'UDP' = 'TCP'): ProbeJob => ({
  id,
  host: '10.244.0.7',
  port,
  protocol,
  timeoutSeconds: 1,
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface WireRound {
  token: string;
  /** The jobs as sent: wire ids (`<token>.<index>`), host, port, protocol. */
  jobs: { id: string; host: string; port: number; protocol: string }[];
}

/** A scripted probe client on the far side of a fake exec stream. */
class FakeClient implements ExecStream {
  readonly rounds: WireRound[] = [];
  readonly written: string[] = [];
  closed = false;
  private settle: (end: ExecEnd) => void = () => undefined;
  readonly ended: Promise<ExecEnd>;

  constructor(
    private readonly out: ExecOutputListener,
    private readonly onRound: (round: WireRound, client: FakeClient) => void,
  ) {
    this.ended = new Promise((resolve) => {
      this.settle = resolve;
    });
  }

  emit(text: string): void {
    if (!this.closed) this.out('stdout', text);
  }
  stderr(text: string): void {
    if (!this.closed) this.out('stderr', text);
  }
  /** Answers a round: one line per job (outcome by port), then END. */
  answer(round: WireRound, outcome: (port: number) => string = () => 'allowed'): string {
    return (
      round.jobs
        .map((j) => `PROBE\t${j.id}\t${outcome(j.port)}\t5\tfake ${String(j.port)}\n`)
        .join('') + `END\t${round.token}\t${String(round.jobs.length)}\n`
    );
  }
  lose(reason: string): void {
    this.settle({ kind: 'lost', reason });
  }
  exit(code: number): void {
    this.settle({ kind: 'exited', exitCode: code });
  }
  write(text: string): void {
    this.written.push(text);
    for (const line of text.split('\n').filter((l) => l !== '')) {
      const [word, token = '', ...jobs] = line.split(' ');
      if (word !== 'ROUND') continue;
      const round = {
        token,
        jobs: jobs.map((j) => {
          const [id = '', host = '', port = '', protocol = ''] = j.split(',');
          return { id, host, port: Number(port), protocol };
        }),
      };
      this.rounds.push(round);
      this.onRound(round, this);
    }
  }
  close(): void {
    this.closed = true;
    this.settle({ kind: 'lost', reason: 'closed by the client' });
  }
}

interface Harness {
  sessions: ProbeSessions;
  clients: FakeClient[];
  opens: ProbeSource[];
  fallbacks: { source: ProbeSource; jobs: readonly ProbeJob[] }[];
}

/**
 * Sessions whose exec is a FakeClient: `ready` says whether (and when) the client prints READY,
 * `onRound` how it answers; the one-exec fallback answers every probe `allowed` unless given.
 */
function harness(
  onRound: (round: WireRound, client: FakeClient) => void,
  options: {
    ready?: 'now' | 'never' | 'exit';
    openError?: () => Error | undefined;
    fallback?: OneExecBatch;
    roundMarginMs?: number;
    openTimeoutMs?: number;
    maxFailures?: number;
  } = {},
): Harness {
  const clients: FakeClient[] = [];
  const opens: ProbeSource[] = [];
  const fallbacks: Harness['fallbacks'] = [];
  const open: OpenSessionExec = (source, command, onOutput) => {
    opens.push(source);
    expect(command).to.deep.equal(sessionCommand());
    const error = options.openError?.();
    if (error !== undefined) return Promise.reject(error);
    const client = new FakeClient(onOutput, onRound);
    clients.push(client);
    setImmediate(() => {
      if ((options.ready ?? 'now') === 'now') client.emit('READY\n');
      if (options.ready === 'exit') {
        client.stderr('bash: line 1: syntax error\n');
        client.exit(2);
      }
    });
    return Promise.resolve(client);
  };
  const fallback: OneExecBatch =
    options.fallback ??
    ((source, jobs) => {
      fallbacks.push({ source, jobs });
      return Promise.resolve(
        jobs.map((j) => ({ id: j.id, outcome: 'allowed', elapsedMs: 7, detail: 'one exec' })),
      );
    });
  const sessions = new ProbeSessions(sessionCommand(), open, fallback, {
    roundMarginMs: options.roundMarginMs ?? 2000,
    openTimeoutMs: options.openTimeoutMs ?? 2000,
    ...(options.maxFailures === undefined ? {} : { maxFailures: options.maxFailures }),
  });
  return { sessions, clients, opens, fallbacks };
}

const outcomes = (results: ProbeResult[]) => results.map((r) => `${r.id}:${r.outcome}`);

describe('probe sessions (fake exec streams)', () => {
  it('reuses one exec for every round of a source pod, answering in job order with the original ids', async () => {
    const h = harness((round, client) => {
      // Completion order, not job order; the text split mid-line across chunks.
      const text = client.answer(round, (port) => (port === 81 ? 'refused' : 'allowed'));
      const reversed = text.trimEnd().split('\n').reverse();
      const end = reversed.shift() ?? '';
      const all = `${reversed.join('\n')}\n${end}\n`;
      setTimeout(() => {
        client.emit(all.slice(0, 7));
      }, 1);
      setTimeout(() => {
        client.emit(all.slice(7, 40));
      }, 3);
      setTimeout(() => {
        client.emit(all.slice(40));
      }, 5);
    });
    for (let r = 0; r < 3; r++) {
      const results = await h.sessions.runBatch(SOURCE, [job('j0'), job('j1', 81), job('j2')]);
      expect(outcomes(results)).to.deep.equal(['j0:allowed', 'j1:refused', 'j2:allowed']);
      expect(results[1]?.detail).to.equal('fake 81');
    }
    expect(h.opens).to.have.length(1);
    expect(h.clients[0]?.rounds.map((r) => r.token)).to.deep.equal(['r1', 'r2', 'r3']);
    expect(h.clients[0]?.rounds[0]?.jobs.map((j) => j.id)).to.deep.equal(['r1.0', 'r1.1', 'r1.2']);
    expect(h.fallbacks).to.deep.equal([]);
    // Another source pod has a session of its own.
    await h.sessions.runBatch(OTHER, [job('j0')]);
    expect(h.opens).to.deep.equal([SOURCE, OTHER]);
    h.sessions.close();
    expect(h.clients.every((c) => c.closed)).to.equal(true);
  });

  it("ignores another round's lines and noise; a job without a line is a probe-error, never a denial", async () => {
    const h = harness((round, client) => {
      const [first] = round.jobs;
      client.emit(`PROBE\tr0.0\trefused\t3\tstale line of an older round\n`);
      client.emit('bash: warning: noise\n');
      client.emit(`END\tr0\t1\n`); // not this round's end
      if (first !== undefined) client.emit(`PROBE\t${first.id}\tdropped\t1000\tno answer\n`);
      client.emit(`END\t${round.token}\t${String(round.jobs.length)}\n`);
    });
    const results = await h.sessions.runBatch(SOURCE, [job('a'), job('b')]);
    expect(results.map((r) => [r.id, r.outcome, r.detail])).to.deep.equal([
      ['a', 'dropped', 'no answer'],
      ['b', 'probe-error', 'no result line for this job'],
    ]);
  });

  it('runs the rounds of one pod one at a time, in order', async () => {
    const pending: (() => void)[] = [];
    const h = harness((round, client) => {
      pending.push(() => {
        client.emit(client.answer(round));
      });
    });
    const first = h.sessions.runBatch(SOURCE, [job('a')]);
    const second = h.sessions.runBatch(SOURCE, [job('b')]);
    await sleep(20);
    expect(h.clients[0]?.rounds.map((r) => r.token)).to.deep.equal(['r1']);
    pending.shift()?.();
    expect(outcomes(await first)).to.deep.equal(['a:allowed']);
    await sleep(5);
    expect(h.clients[0]?.rounds.map((r) => r.token)).to.deep.equal(['r1', 'r2']);
    pending.shift()?.();
    expect(outcomes(await second)).to.deep.equal(['b:allowed']);
  });

  it('a stream lost mid-round: that round is probed again by one exec, saying why; the next round opens a new session', async () => {
    let n = 0;
    const h = harness((round, client) => {
      n++;
      if (n === 1) {
        // Half an answer, then the connection drops.
        client.emit(`PROBE\t${round.token}.0\trefused\t3\tConnection refused\n`);
        setTimeout(() => {
          client.lose('websocket closed (1006)');
        }, 2);
        return;
      }
      client.emit(client.answer(round));
    });
    const results = await h.sessions.runBatch(SOURCE, [job('a'), job('b')]);
    // Not the half answer's "refused": the round as one exec probed it.
    expect(outcomes(results)).to.deep.equal(['a:allowed', 'b:allowed']);
    expect(results[0]?.detail).to.match(
      /^one exec \[one exec: the probe session in x\/a\/probe was lost: websocket closed \(1006\)\]$/,
    );
    expect(h.fallbacks).to.have.length(1);
    expect(h.clients[0]?.closed).to.equal(true);
    const next = await h.sessions.runBatch(SOURCE, [job('c')]);
    expect(outcomes(next)).to.deep.equal(['c:allowed']);
    expect(next[0]?.detail).to.equal('fake 80');
    expect(h.opens).to.have.length(2);
  });

  it('a round answered late: closed after its bound, probed by one exec; the late answer is ignored', async () => {
    let late: (() => void) | undefined;
    const h = harness(
      (round, client) => {
        late = () => {
          client.emit(client.answer(round, () => 'refused'));
        };
      },
      { roundMarginMs: 30 },
    );
    const t0 = Date.now();
    const results = await h.sessions.runBatch(SOURCE, [job('a')]);
    expect(Date.now() - t0).to.be.within(1000, 1800); // 1 s probe timeout + 30 ms
    expect(outcomes(results)).to.deep.equal(['a:allowed']);
    expect(results[0]?.detail).to.include('did not answer round r1 within 1030 ms');
    late?.(); // arrives after the session was closed: changes nothing
    expect(h.clients[0]?.closed).to.equal(true);
    expect(outcomes(results)).to.deep.equal(['a:allowed']);
  });

  it('when the one exec fails too, every job is a probe-error with both reasons and a command to reproduce it', async () => {
    const cluster = {
      exec: () =>
        Promise.reject(
          new ClusterError('container not found ("probe")', {
            verb: 'exec in',
            kind: 'Pod',
            namespace: 'x',
            name: 'a/probe',
          }),
        ),
    } as unknown as Cluster;
    const h = harness(
      (_round, client) => {
        client.exit(137);
      },
      { fallback: (source, jobs) => runProbeBatch(cluster, source, jobs) },
    );
    const results = await h.sessions.runBatch(SOURCE, [job('a'), job('b', 81, 'UDP')]);
    expect(results.map((r) => r.outcome)).to.deep.equal(['probe-error', 'probe-error']);
    const detail = results[1]?.detail ?? '';
    expect(detail).to.include('container not found');
    expect(detail).to.include(
      'reproduce: kubectl exec -n x a -c probe -- bash probe.sh a,10.244.0.7,80,TCP,1 b,10.244.0.7,81,UDP,1',
    );
    expect(detail).to.include(
      'before that: the probe session in x/a/probe ended (its client exited with code 137)',
    );
  });

  it('a session that cannot be opened, or whose client never starts or exits at once, falls back to one exec', async () => {
    const refused = harness(() => undefined, {
      openError: () =>
        new ClusterError('pods "a" is forbidden', { verb: 'exec in', kind: 'Pod', httpCode: 403 }),
    });
    const r1 = await refused.sessions.runBatch(SOURCE, [job('a')]);
    expect(outcomes(r1)).to.deep.equal(['a:allowed']);
    expect(r1[0]?.detail).to.include('could not open a probe session in x/a/probe');
    expect(r1[0]?.detail).to.include('forbidden');

    const silent = harness(() => undefined, { ready: 'never', openTimeoutMs: 30 });
    const r2 = await silent.sessions.runBatch(SOURCE, [job('a')]);
    expect(r2[0]?.detail).to.include('did not start within 30 ms');
    expect(silent.clients[0]?.closed).to.equal(true);

    const broken = harness(() => undefined, { ready: 'exit' });
    const r3 = await broken.sessions.runBatch(SOURCE, [job('a')]);
    expect(r3[0]?.detail).to.include('exited with code 2');
    expect(r3[0]?.detail).to.include('stderr: bash: line 1: syntax error');
  });

  it('after maxFailures failed sessions a pod is probed by one exec per round, without reopening', async () => {
    const h = harness(() => undefined, {
      openError: () => new ClusterError('boom', { verb: 'exec in', kind: 'Pod' }),
      maxFailures: 2,
    });
    for (let r = 0; r < 4; r++) await h.sessions.runBatch(SOURCE, [job('a')]);
    expect(h.opens).to.have.length(2);
    expect(h.fallbacks).to.have.length(4);
    const last = await h.sessions.runBatch(SOURCE, [job('a')]);
    expect(last[0]?.detail).to.include('its probe sessions failed 2 times');
  });

  it('a session that ended between rounds (its pod went away) is replaced at the next round', async () => {
    const h = harness((round, client) => {
      client.emit(client.answer(round));
    });
    await h.sessions.runBatch(SOURCE, [job('a')]);
    h.clients[0]?.exit(137);
    await sleep(1);
    const results = await h.sessions.runBatch(SOURCE, [job('b')]);
    expect(outcomes(results)).to.deep.equal(['b:allowed']);
    expect(results[0]?.detail).to.equal('fake 80');
    expect(h.opens).to.have.length(2);
    expect(h.fallbacks).to.deep.equal([]);
  });

  it('a client that does not understand a round fails it at once', async () => {
    const h = harness((_round, client) => {
      client.emit('ERROR\tROUND r1 garbled\n');
    });
    const t0 = Date.now();
    const results = await h.sessions.runBatch(SOURCE, [job('a')]);
    expect(Date.now() - t0).to.be.below(500);
    expect(results[0]?.detail).to.include('did not understand round r1');
    expect(h.fallbacks).to.have.length(1);
  });

  it('an abort mid-round rejects with its reason, closes the session and probes nothing more', async () => {
    const h = harness(() => undefined);
    const controller = new AbortController();
    const pending = h.sessions.runBatch(SOURCE, [job('a')], controller.signal);
    await sleep(10);
    controller.abort(new Error('interrupted'));
    let error: unknown;
    try {
      await pending;
    } catch (e) {
      error = e;
    }
    expect((error as Error).message).to.equal('interrupted');
    expect(h.clients[0]?.closed).to.equal(true);
    expect(h.fallbacks).to.deep.equal([]);
  });

  it('opens sessions ahead of their first round, never rejecting; close() ends them', async () => {
    let fail = false;
    const h = harness(
      (round, client) => {
        client.emit(client.answer(round));
      },
      {
        openError: () =>
          fail ? new ClusterError('boom', { verb: 'exec in', kind: 'Pod' }) : undefined,
      },
    );
    await h.sessions.open([SOURCE]);
    fail = true;
    await h.sessions.open([OTHER]); // fails: not thrown, the first round retries
    expect(h.opens).to.deep.equal([SOURCE, OTHER]);
    fail = false;
    await h.sessions.runBatch(SOURCE, [job('a')]);
    await h.sessions.runBatch(OTHER, [job('a')]);
    expect(h.opens).to.deep.equal([SOURCE, OTHER, OTHER]);
    h.sessions.close([SOURCE]);
    expect(h.clients.map((c) => c.closed)).to.deep.equal([true, false]);
    h.sessions.close();
    expect(h.clients.map((c) => c.closed)).to.deep.equal([true, true]);
  });
});

/** A UDP socket on the loopback, bound to a free port; `reply` answers every datagram. */
/** A UDP server on the loopback that answers every datagram after the first `ignore` (never, when false). */
function loopbackUdp(reply: boolean, ignore = 0): Promise<{ socket: Socket; port: number }> {
  const socket = createSocket('udp4');
  let seen = 0;
  if (reply)
    socket.on('message', (_message, from) => {
      if (++seen > ignore) socket.send('pod-b\n', from.port, from.address);
    });
  return new Promise((resolve) => {
    socket.bind(0, '127.0.0.1', () => {
      resolve({ socket, port: socket.address().port });
    });
  });
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** A loopback TCP port nothing listens on (a connection is reset at once). */
async function closedTcpPort(): Promise<number> {
  const server = createServer();
  const port = await listen(server);
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('probe session client (probes/probe.sh --session, local bash, loopback only)', () => {
  let server: { socket: Socket; port: number };
  let closedPort: number;
  let silent: { socket: Socket; port: number };
  let lossy: { socket: Socket; port: number };
  let tcp: Server;
  let tcpPort: number;
  let refusedPort: number;
  let dir: string;
  before(async () => {
    // netcat-openbsd may not be installed here: a stand-in with its command line and messages
    // (bash's own socket on the loopback; only nc's TCP use, `-v -n -z -w T HOST PORT`).
    dir = mkdtempSync(join(tmpdir(), 'polygraph-session-'));
    writeFileSync(
      join(dir, 'nc'),
      [
        '#!/bin/bash',
        'host=${@: -2:1}; port=${@: -1}',
        'if { exec 3<>"/dev/tcp/$host/$port"; } 2>/dev/null; then',
        '  echo "Connection to $host $port port [tcp/*] succeeded!" >&2; exit 0',
        'fi',
        'echo "nc: connect to $host port $port (tcp) failed: Connection refused" >&2; exit 1',
        '',
      ].join('\n'),
    );
    chmodSync(join(dir, 'nc'), 0o755);
    server = await loopbackUdp(true);
    silent = await loopbackUdp(false); // receives, never answers
    lossy = await loopbackUdp(true, 2); // as if two datagrams were lost on the way
    const closed = await loopbackUdp(false);
    closedPort = closed.port;
    closed.socket.close(); // nothing listens there any more: an ICMP port unreachable
    tcp = createServer((socket) => socket.destroy());
    tcpPort = await listen(tcp);
    refusedPort = await closedTcpPort();
  });
  after(() => {
    server.socket.close();
    silent.socket.close();
    lossy.socket.close();
    tcp.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The session's exec as a local process running the real script. */
  const local: OpenSessionExec = (_source, command, onOutput) => {
    const [shell = 'bash', flag = '-c', script = '', ...rest] = command;
    const child = spawn(
      shell,
      [flag, script.replace('NC=/usr/bin/nc', `NC=${join(dir, 'nc')}`), ...rest],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (text: string) => {
      onOutput('stdout', text);
    });
    child.stderr.on('data', (text: string) => {
      onOutput('stderr', text);
    });
    const ended = new Promise<ExecEnd>((resolve) => {
      child.on('exit', (code) => {
        resolve({ kind: 'exited', exitCode: code ?? -1 });
      });
    });
    return Promise.resolve({
      write: (text: string) => {
        child.stdin.write(text);
      },
      ended,
      close: () => {
        child.stdin.end();
      },
    });
  };

  it('answers round after round on one process, classifying every outcome', async function () {
    this.timeout(10_000);
    let opened = 0;
    const open: OpenSessionExec = (source, command, onOutput) => {
      opened++;
      return local(source, command, onOutput);
    };
    const sessions = new ProbeSessions(sessionCommand(), open, () =>
      Promise.reject(new Error('the one-exec fallback was not expected')),
    );
    const at = (id: string, port: number, protocol: 'TCP' | 'UDP'): ProbeJob => ({
      ...job(id, port, protocol),
      host: '127.0.0.1',
    });
    const jobs = [
      at('t-open', tcpPort, 'TCP'),
      at('t-closed', refusedPort, 'TCP'),
      at('u-served', server.port, 'UDP'),
      at('u-closed', closedPort, 'UDP'),
      at('u-silent', silent.port, 'UDP'),
      at('u-lossy', lossy.port, 'UDP'),
    ];
    try {
      const t0 = Date.now();
      const first = await sessions.runBatch(SOURCE, jobs);
      const elapsed = Date.now() - t0;
      expect(first.map((r) => `${r.id}:${r.outcome}`)).to.deep.equal([
        't-open:allowed',
        't-closed:refused',
        'u-served:allowed',
        'u-closed:refused',
        'u-silent:dropped',
        'u-lossy:allowed',
      ]);
      expect(first[1]?.detail).to.include('Connection refused');
      expect(first[2]?.detail).to.equal('a reply arrived');
      // The datagram is sent again within the timeout, as TCP sends its SYN again: a lost
      // datagram is not a denial; a server that never answers got one every 250 ms.
      expect(first[5]?.detail).to.equal('a reply arrived (datagram 3)');
      expect(first[4]?.detail).to.match(/^no reply within 1s \([45] datagrams\)$/);
      // The probes ran at once: the silent one's 1 s, not the sum.
      expect(elapsed).to.be.below(2500);
      const second = await sessions.runBatch(SOURCE, [at('again', tcpPort, 'TCP')]);
      expect(second.map((r) => `${r.id}:${r.outcome}`)).to.deep.equal(['again:allowed']);
      expect(opened).to.equal(1);
    } finally {
      sessions.close(); // a failed assertion must not leave the local bash running
    }
  });

  it('probes an IPv6 literal as it probes an IPv4 one (TCP through nc, UDP through bash)', async function () {
    this.timeout(10_000);
    // The IPv6 loopback: a TCP server, a closed TCP port and a UDP server that answers.
    const tcp6 = createServer((socket) => socket.destroy());
    const tcp6Port = await new Promise<number>((resolve) => {
      tcp6.listen(0, '::1', () => {
        resolve((tcp6.address() as AddressInfo).port);
      });
    });
    const closed6 = createServer();
    const closed6Port = await new Promise<number>((resolve) => {
      closed6.listen(0, '::1', () => {
        resolve((closed6.address() as AddressInfo).port);
      });
    });
    await new Promise((resolve) => closed6.close(resolve));
    const udp6 = createSocket('udp6');
    udp6.on('message', (_message, from) => {
      udp6.send('pod-b\n', from.port, from.address);
    });
    const udp6Port = await new Promise<number>((resolve) => {
      udp6.bind(0, '::1', () => {
        resolve(udp6.address().port);
      });
    });
    const sessions = new ProbeSessions(sessionCommand(), local, () =>
      Promise.reject(new Error('the one-exec fallback was not expected')),
    );
    const at = (id: string, port: number, protocol: 'TCP' | 'UDP'): ProbeJob => ({
      ...job(id, port, protocol),
      host: '::1',
    });
    try {
      const results = await sessions.runBatch(SOURCE, [
        at('t6-open', tcp6Port, 'TCP'),
        at('t6-closed', closed6Port, 'TCP'),
        at('u6-served', udp6Port, 'UDP'),
      ]);
      expect(results.map((r) => `${r.id}:${r.outcome}`)).to.deep.equal([
        't6-open:allowed',
        't6-closed:refused',
        'u6-served:allowed',
      ]);
    } finally {
      sessions.close();
      tcp6.close();
      udp6.close();
    }
  });
});

describe('a UDP probe short of CPU (probes/probe.sh, local bash, loopback only)', () => {
  it('stopped for its whole timeout after one datagram, it still sends the ones planned before saying dropped, and is answered', async function () {
    this.timeout(10_000);
    // Answers from the third datagram on, as if the first two were lost: a probe that gave up at
    // the timeout with the one or two it managed to send would read a drop.
    const lossy = await loopbackUdp(true, 2);
    const [shell = 'bash', flag = '-c', script = '', name = 'probe.sh'] = sessionCommand();
    // Its own process group, so that the whole probe (the job runs in a subshell) can be stopped.
    const child = spawn(shell, [flag, script, name, `u,127.0.0.1,${String(lossy.port)},UDP,1`], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (text: string) => (output += text));
    const exited = new Promise<void>((resolve) =>
      child.on('exit', () => {
        resolve();
      }),
    );
    try {
      // Stopped as soon as the first datagram arrived, for longer than the 1 s timeout.
      await new Promise<void>((resolve) =>
        lossy.socket.once('message', () => {
          resolve();
        }),
      );
      process.kill(-child.pid!, 'SIGSTOP');
      await new Promise((resolve) => setTimeout(resolve, 1100));
      process.kill(-child.pid!, 'SIGCONT');
      await exited;
      const line = output.split('\n').find((l) => l.startsWith('PROBE'));
      const [, id, outcome, ms, detail] = (line ?? '').split('\t');
      expect([id, outcome, detail]).to.deep.equal(['u', 'allowed', 'a reply arrived (datagram 3)']);
      // Past the timeout (it was stopped), within twice it.
      expect(Number(ms)).to.be.within(1100, 2000);
    } finally {
      if (child.exitCode === null) process.kill(-child.pid!, 'SIGKILL');
      lossy.socket.close();
    }
  });
});
