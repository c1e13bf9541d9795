import { expect } from 'chai';
import { execa } from 'execa';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROBE_CONTAINER, probePod, serverCommand } from '../../src/probe/probe-pod.js';

/**
 * The bash that runs several servers in one container, run here with a stub in place of
 * /agnhost: each "server" records its arguments and pid, then sleeps (or exits with the status
 * its first argument names).
 */
describe('the servers of a probe pod, in one container', () => {
  let dir = '';
  let stub = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'polygraph-servers-'));
    stub = join(dir, 'agnhost');
    await writeFile(
      stub,
      `#!/bin/bash\necho "$$ $*" >> ${dir}/started\n[[ $1 == exit-* ]] && { sleep 0.3; exit "\${1#exit-}"; }\nexec sleep 30 >/dev/null 2>&1\n`,
    );
    await chmod(stub, 0o755);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const script = (servers: string[][]): string => {
    const { command, args } = serverCommand(servers);
    expect(command).to.deep.equal(['/bin/bash', '-c']);
    return (args[0] ?? '').replaceAll('/agnhost ', `${stub} `);
  };
  const started = async (): Promise<string[]> =>
    (await readFile(join(dir, 'started'), 'utf8')).trim().split('\n');
  // Exited processes are reaped by the machine's init, maybe later: a zombie counts as gone.
  const alive = async (pid: number): Promise<boolean> => {
    const stat = await readFile(`/proc/${String(pid)}/stat`, 'utf8').catch(() => '');
    return stat !== '' && !/^\d+ \(.*\) Z/.test(stat);
  };
  /** The script of these servers under bash, once every server has started. */
  const startAll = async (servers: string[][]) => {
    await rm(join(dir, 'started'), { force: true });
    const shell = execa('bash', ['-c', script(servers)], { reject: false });
    while ((await started().catch(() => [])).length < servers.length)
      await new Promise((r) => setTimeout(r, 20));
    return { shell, lines: await started() };
  };
  /** The arguments each started server was given, sorted. */
  const argsOf = (lines: string[]) => lines.map((l) => l.split(' ').slice(1).join(' ')).sort();
  // What a container's end would do: no server outlives the test.
  afterEach(async () => {
    for (const line of await started().catch(() => [])) {
      try {
        process.kill(Number(line.split(' ')[0]), 'SIGKILL');
      } catch {
        // gone already
      }
    }
  });

  it('starts every server and stops them all on SIGTERM, at once and with status 0', async () => {
    const { shell, lines } = await startAll([
      ['serve', '--port=80'],
      ['serve', '--port=81'],
    ]);
    expect(argsOf(lines)).to.deep.equal(['serve --port=80', 'serve --port=81']);
    const t0 = Date.now();
    shell.kill('SIGTERM');
    const result = await shell;
    expect(result.exitCode).to.equal(0);
    expect(Date.now() - t0).to.be.below(2000);
    await new Promise((r) => setTimeout(r, 100));
    for (const line of lines) expect(await alive(Number(line.split(' ')[0]))).to.equal(false);
  });

  it('exits with status 1 and says so when any server exits, so the container restarts', async () => {
    await rm(join(dir, 'started'), { force: true });
    const result = await execa('bash', ['-c', script([['serve'], ['exit-0'], ['serve']])], {
      reject: false,
      timeout: 10_000,
    });
    expect(result.exitCode).to.equal(1);
    expect(result.stderr).to.include('a server exited (status 0)');
  });

  it('passes each argument as it is, blanks, quotes and $ included', async () => {
    const { shell, lines } = await startAll([
      ['serve', "it's $HOME"],
      ['serve', 'a  b'],
    ]);
    shell.kill('SIGTERM');
    await shell;
    expect(argsOf(lines)).to.deep.equal(['serve a  b', "serve it's $HOME"]);
  });

  it('one server is agnhost itself; none is agnhost pause', () => {
    expect(serverCommand([['serve-hostname', '--port=80']])).to.deep.equal({
      command: ['/agnhost'],
      args: ['serve-hostname', '--port=80'],
    });
    expect(serverCommand([])).to.deep.equal({ command: ['/agnhost'], args: ['pause'] });
  });

  it('a test pod serves each port on TCP and UDP from the container probe, ports declared', () => {
    const pod = probePod({ namespace: 'x', name: 'a', image: 'img', ports: [80, 81] });
    expect(pod.containers.map((c) => c.name)).to.deep.equal([PROBE_CONTAINER]);
    expect(pod.containers[0]?.ports?.map((p) => p.name)).to.deep.equal([
      'tcp-80',
      'udp-80',
      'tcp-81',
      'udp-81',
    ]);
    expect(pod.containers[0]?.args?.[0]).to.include(
      '/agnhost serve-hostname --tcp --udp --http=false --port=81 &',
    );
  });
});
