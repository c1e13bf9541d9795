/**
 * The hold client (probes/probe.sh --hold, src/probe/hold.ts): the real script run by a local bash
 * against servers on this host's loopback (nothing leaves this host; TCP opening goes through a
 * stand-in for netcat, as in probe-session.test.ts), each server told between the opening and the
 * test to go on answering, go silent, reset or close; and the client's failures, which are
 * probe-errors. The lab proves it on Kubernetes (test/e2e/held.e2e.ts).
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecEnd } from '../../src/cluster/index.js';
import { holdCommand } from '../../src/probe/batch.js';
import { HoldSession, parseHeldLine } from '../../src/probe/hold.js';
import type { OpenSessionExec } from '../../src/probe/session.js';

const SOURCE = { namespace: 'x', pod: 'a', container: 'probe' };

type Mode = 'answer' | 'silent' | 'reset' | 'close';

/** A TCP server answering each HTTP request on a kept-alive connection, until told otherwise. */
async function httpish(): Promise<{ server: Server; port: number; mode: { now: Mode } }> {
  const mode = { now: 'answer' as Mode };
  const sockets: Socket[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => undefined);
    // A request may come in several segments (bash's printf writes in pieces): answer each
    // complete one, once.
    let pending = '';
    socket.on('data', (chunk: Buffer) => {
      pending += chunk.toString('latin1');
      const end = pending.indexOf('\r\n\r\n');
      if (end < 0) return;
      pending = pending.slice(end + 4);
      switch (mode.now) {
        case 'answer':
          socket.write('HTTP/1.1 200 OK\r\nContent-Length: 4\r\nX-Any: thing\r\n\r\nhost');
          return;
        case 'silent':
          return;
        case 'reset':
          socket.resetAndDestroy();
          return;
        case 'close':
          socket.end();
          return;
      }
    });
  });
  server.on('close', () => {
    for (const s of sockets) s.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, mode };
}

async function udp(): Promise<{ socket: UdpSocket; port: number; answer: { now: boolean } }> {
  const answer = { now: true };
  const socket = createSocket('udp4');
  socket.on('message', (_msg, rinfo) => {
    if (answer.now) socket.send('host', rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { socket, port: socket.address().port, answer };
}

describe('hold client (probes/probe.sh --hold, local bash, loopback only)', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'polygraph-hold-'));
    writeFileSync(
      join(dir, 'nc'),
      [
        '#!/bin/bash',
        'host=${@: -2:1}; port=${@: -1}',
        'if { exec 3<>"/dev/tcp/$host/$port"; } 2>/dev/null; then exit 0; fi',
        'echo "nc: connect to $host port $port (tcp) failed: Connection refused" >&2; exit 1',
        '',
      ].join('\n'),
    );
    chmodSync(join(dir, 'nc'), 0o755);
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  let children = 0;
  const local: OpenSessionExec = (_source, command, onOutput) => {
    const [shell = 'bash', flag = '-c', script = '', ...rest] = command;
    const child = spawn(
      shell,
      [flag, script.replace('NC=/usr/bin/nc', `NC=${join(dir, 'nc')}`), ...rest],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    children++;
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
        children--;
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

  it('opens each connection with one exchange, then tells open from dropped from reset on the same connections', async function () {
    this.timeout(20_000);
    const tcp = await Promise.all([httpish(), httpish(), httpish(), httpish()]);
    const served = await udp();
    const silent = await udp();
    const closing = await udp();
    const client = new HoldSession(SOURCE, holdCommand(), local);
    try {
      const request = (id: string, port: number, protocol: 'TCP' | 'UDP') => ({
        id,
        host: '127.0.0.1',
        port,
        protocol,
        timeoutSeconds: 1,
      });
      const ids = ['t-open', 't-silent', 't-reset', 't-close', 'u-open', 'u-silent', 'u-closed'];
      const opened = await client.open([
        ...tcp.map((t, i) => request(ids[i] ?? '', t.port, 'TCP')),
        request('u-open', served.port, 'UDP'),
        request('u-silent', silent.port, 'UDP'),
        request('u-closed', closing.port, 'UDP'),
      ]);
      expect(opened.map((r) => `${r.id}:${r.outcome}`)).to.deep.equal(
        ids.map((id) => `${id}:open`),
      );
      const [, quiet, reset, close] = tcp;
      quiet.mode.now = 'silent';
      reset.mode.now = 'reset';
      close.mode.now = 'close';
      silent.answer.now = false;
      await new Promise<void>((resolve) => closing.socket.close(resolve)); // ICMP port unreachable
      const tested = await client.test(ids, 1);
      expect(tested.map((r) => `${r.id}:${r.outcome}`)).to.deep.equal([
        't-open:open',
        't-silent:dropped',
        't-reset:reset',
        't-close:reset',
        'u-open:open',
        'u-silent:dropped',
        'u-closed:reset',
      ]);
      expect(tested[2]?.detail).to.equal('Connection reset by peer');
      expect(tested[3]?.detail).to.equal('the peer closed the connection');
      // Used again: the open ones still answer, each on its own connection.
      const again = await client.test(['t-open', 'u-open'], 1);
      expect(again.map((r) => r.outcome)).to.deep.equal(['open', 'open']);
    } finally {
      client.close();
      for (const t of tcp) t.server.close();
      served.socket.close();
      silent.socket.close();
    }
    // Closing the client's input ends it, and every connection with it.
    for (let i = 0; i < 50 && children > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(children).to.equal(0);
  });

  it('a connection that cannot open is a probe-error; so is every one when the client cannot start', async function () {
    this.timeout(10_000);
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) =>
      closed.close(() => {
        resolve();
      }),
    );
    const client = new HoldSession(SOURCE, holdCommand(), local);
    try {
      const [refused] = await client.open([
        { id: 'h0', host: '127.0.0.1', port, protocol: 'TCP', timeoutSeconds: 1 },
      ]);
      expect(refused?.outcome).to.equal('probe-error');
      expect(refused?.detail).to.include('could not open');
    } finally {
      client.close();
    }
    const broken = new HoldSession(SOURCE, holdCommand(), () =>
      Promise.reject(new Error('pods "a" is forbidden')),
    );
    const reports = await broken.open([
      { id: 'h0', host: '10.244.0.9', port: 80, protocol: 'TCP', timeoutSeconds: 1 },
    ]);
    expect(reports.map((r) => r.outcome)).to.deep.equal(['probe-error']);
    expect(reports[0]?.detail).to.include('pods "a" is forbidden');
    expect(await broken.test(['h0'], 1)).to.have.length(1);
  });

  it('reads HELD lines and nothing else', () => {
    expect(parseHeldLine('HELD\th1\treset\t12\tConnection reset by peer')).to.deep.equal({
      id: 'h1',
      outcome: 'reset',
      elapsedMs: 12,
      detail: 'Connection reset by peer',
    });
    expect(parseHeldLine('HELD\th1\tallowed\t12\tx')).to.equal(undefined);
    expect(parseHeldLine('PROBE\th1\topen\t12\tx')).to.equal(undefined);
    expect(parseHeldLine('HELD\th1\topen\tsoon\tx')).to.equal(undefined);
  });
});
