/**
 * Probe sessions (src/probe/session.ts) on the lab: one long-lived exec per source pod, reused
 * round after round, and what happens when it fails for real — its client killed in the middle
 * of a round, its pod deleted. Asserted: a round on an open session is faster than one exec; a
 * failed session's round is probed again by one exec and says why; a source that no longer
 * exists gives probe-errors with a command to reproduce them — never a denial.
 *
 * The cluster comes from POLYGRAPH_KUBECONFIG or KUBECONFIG, else the lab's `.lab/kubeconfig`;
 * the image from POLYGRAPH_IMAGE, else the lab's. Its namespace carries polygraph's labels, so
 * `polygraph clean` removes it if the suite is killed.
 */
import { expect } from 'chai';
import { Cluster, deletePod, waitPodsReady, type PodInfo } from '../../src/cluster/index.js';
import { newRunId, ownershipLabels } from '../../src/engine/names.js';
import type { ProbeJob } from '../../src/probe/batch-protocol.js';
import { runProbeBatch, sessionCommand, type ProbeSource } from '../../src/probe/batch.js';
import { PROBE_CONTAINER, scenarioProbePod } from '../../src/probe/probe-pod.js';
import { ProbeSessions } from '../../src/probe/session.js';
import * as lab from '../lab/lab.js';

function log(message: string): void {
  console.log(`      · ${message}`);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

describe('probe sessions on the lab', function () {
  this.timeout(180_000);
  const runId = newRunId();
  const namespace = `pg-session-${runId}`;
  let cluster: Cluster;
  const pods = new Map<string, PodInfo>();

  const source = (name: string): ProbeSource => ({
    namespace,
    pod: name,
    container: PROBE_CONTAINER,
  });
  const sessions = () =>
    new ProbeSessions(
      sessionCommand(),
      (s, command, onOutput) =>
        cluster.openExec(s.namespace, s.pod, s.container, command, { onOutput }),
      (s, jobs) => runProbeBatch(cluster, s, jobs),
    );
  /** Every port of pod `to`, TCP and UDP. */
  const jobsTo = (to: string, timeoutSeconds = 1): ProbeJob[] =>
    [80, 81].flatMap((port) =>
      (['TCP', 'UDP'] as const).map((protocol) => ({
        id: `${to}-${String(port)}-${protocol}`,
        host: pods.get(to)?.ip ?? '',
        port,
        protocol,
        timeoutSeconds,
      })),
    );
  /** Kills the session's client (bash reading rounds) in pod `name`, from a second exec. */
  const killSession = (name: string) =>
    cluster.exec(namespace, name, PROBE_CONTAINER, [
      'bash',
      '-c',
      // The pattern is assembled so that this command's own arguments do not match it.
      's=--ses; s+=sion; for p in /proc/[0-9]*; do mapfile -d "" a < $p/cmdline 2>/dev/null || continue; [[ ${#a[@]} -gt 0 && ${a[-1]} == "$s" ]] && kill -9 ${p#/proc/} && echo killed ${p#/proc/}; done; true',
    ]);

  before(async function () {
    const kubeconfig =
      process.env.POLYGRAPH_KUBECONFIG ?? process.env.KUBECONFIG ?? lab.kubeconfigPath();
    const image = process.env.POLYGRAPH_IMAGE ?? (await lab.probeImageRef());
    cluster = Cluster.connect({ kubeconfig });
    await cluster.createNamespace(namespace, ownershipLabels(runId));
    for (const name of ['a', 'b', 'c'])
      await cluster.createPod(
        scenarioProbePod({
          namespace,
          name,
          labels: { pod: name },
          ports: [80, 81].flatMap((containerPort) =>
            (['TCP', 'UDP'] as const).map((protocol) => ({ containerPort, protocol })),
          ),
          image,
        }),
      );
    for (const info of await waitPodsReady(cluster, namespace, ['a', 'b', 'c'], {
      timeoutMs: 120_000,
    }))
      pods.set(info.name, info);
  });

  after(async function () {
    await cluster.deleteNamespace(namespace, { wait: true });
  });

  it('one exec serves every round of a source pod, and a round on it is faster than one exec', async () => {
    const pool = sessions();
    const jobs = [...jobsTo('b'), ...jobsTo('c')];
    const t0 = performance.now();
    await pool.open([source('a')]);
    const openMs = performance.now() - t0;
    const sessionMs: number[] = [];
    for (let r = 0; r < 10; r++) {
      const t = performance.now();
      const results = await pool.runBatch(source('a'), jobs);
      sessionMs.push(performance.now() - t);
      expect(results.map((x) => `${x.id}:${x.outcome}`)).to.deep.equal(
        jobs.map((j) => `${j.id}:allowed`),
      );
      expect(results.every((x) => !x.detail.includes('one exec'))).to.equal(true);
    }
    const execMs: number[] = [];
    for (let r = 0; r < 3; r++) {
      const t = performance.now();
      await runProbeBatch(cluster, source('a'), jobs);
      execMs.push(performance.now() - t);
    }
    log(
      `session opened in ${openMs.toFixed(0)} ms; a round of ${String(jobs.length)} probes: ` +
        `session median ${median(sessionMs).toFixed(0)} ms (max ${Math.max(...sessionMs).toFixed(0)}), ` +
        `one exec median ${median(execMs).toFixed(0)} ms`,
    );
    expect(pool.started).to.equal(1);
    expect(median(sessionMs)).to.be.below(median(execMs));
    pool.close();
  });

  it('a TCP probe nothing answers is dropped at its timeout, the others of its round are not held up', async () => {
    const pool = sessions();
    const base = lab.podCIDR().split('/')[0]?.split('.').slice(0, 3).join('.') ?? '';
    const jobs: ProbeJob[] = [
      ...jobsTo('b'),
      { id: 'nobody-80-TCP', host: `${base}.254`, port: 80, protocol: 'TCP', timeoutSeconds: 1 },
    ];
    await pool.open([source('a')]);
    for (let r = 0; r < 2; r++) {
      const t = performance.now();
      const results = await pool.runBatch(source('a'), jobs);
      const ms = performance.now() - t;
      for (const x of results) log(`${x.id}: ${x.outcome} (${String(x.elapsedMs)} ms) ${x.detail}`);
      expect(results.map((x) => x.outcome)).to.deep.equal([
        'allowed',
        'allowed',
        'allowed',
        'allowed',
        'dropped',
      ]);
      expect(results[4]?.elapsedMs).to.be.within(900, 1500);
      expect(results.slice(0, 4).every((x) => x.elapsedMs < 500)).to.equal(true);
      expect(ms).to.be.below(2500);
    }
    expect(pool.started).to.equal(1);
    pool.close();
  });

  it('a session whose client is killed mid-round: the round is probed again by one exec, saying why', async () => {
    const pool = sessions();
    await pool.open([source('a')]);
    // A round held open for 3 s by a probe to an address of the pod network that no pod has
    // (no ARP answer on the node's bridge: nothing leaves the lab).
    const base = lab.podCIDR().split('/')[0]?.split('.').slice(0, 3).join('.') ?? '';
    const slow: ProbeJob = {
      id: 'nobody-80-TCP',
      host: `${base}.254`,
      port: 80,
      protocol: 'TCP',
      timeoutSeconds: 3,
    };
    const jobs = [...jobsTo('b', 3), slow];
    const round = pool.runBatch(source('a'), jobs);
    await new Promise((r) => setTimeout(r, 300));
    const killed = await killSession('a');
    log(`kill: ${killed.stdout.trim() || '(nothing found)'}`);
    const results = await round;
    for (const r of results) log(`${r.id}: ${r.outcome} ${r.detail}`);
    expect(results.slice(0, 4).map((r) => r.outcome)).to.deep.equal([
      'allowed',
      'allowed',
      'allowed',
      'allowed',
    ]);
    // Whatever the probe to nobody found, it was probed, not lost with the session.
    expect(results[4]?.outcome).to.be.oneOf(['dropped', 'refused']);
    expect(results.every((r) => r.detail.includes('[one exec: the probe session in'))).to.equal(
      true,
    );
    // The next round opens a new session.
    const next = await pool.runBatch(source('a'), jobsTo('b'));
    expect(next.map((r) => r.outcome)).to.deep.equal(['allowed', 'allowed', 'allowed', 'allowed']);
    expect(next.every((r) => !r.detail.includes('one exec'))).to.equal(true);
    expect(pool.started).to.equal(2);
    pool.close();
  });

  it('a source pod deleted under its session: probe-errors with a command to reproduce, never a denial', async () => {
    const pool = sessions();
    await pool.open([source('c')]);
    expect((await pool.runBatch(source('c'), jobsTo('b'))).map((r) => r.outcome)).to.deep.equal([
      'allowed',
      'allowed',
      'allowed',
      'allowed',
    ]);
    await deletePod(cluster, namespace, 'c');
    for (let i = 0; i < 60; i++) {
      try {
        await cluster.getPod(namespace, 'c');
      } catch {
        break;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    const results = await pool.runBatch(source('c'), jobsTo('b'));
    for (const r of results) log(`${r.id}: ${r.outcome} ${r.detail}`);
    expect(results.map((r) => r.outcome)).to.deep.equal([
      'probe-error',
      'probe-error',
      'probe-error',
      'probe-error',
    ]);
    expect(results[0]?.detail).to.include(`reproduce: kubectl exec -n ${namespace} c -c probe`);
    expect(results[0]?.detail).to.include('before that:');
    pool.close();
  });
});
