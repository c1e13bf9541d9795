/**
 * `npm run lab:up | lab:down | lab:status | lab:enforcement` — a thin entry point over
 * test/lab/lab.ts.
 *
 *   up [--no-enforcement] [--nodes N] [--family ipv4|dual]
 *                           start the lab; --no-enforcement (or POLYGRAPH_LAB_ENFORCEMENT=0)
 *                           starts everything but kube-router: NetworkPolicies are not enforced;
 *                           --nodes 2 (or POLYGRAPH_LAB_NODES=2) adds node2 (default 1);
 *                           --family dual (or POLYGRAPH_LAB_FAMILY=dual) gives pods, nodes and
 *                           services an IPv4 and an IPv6 address (default ipv4: IPv4 only)
 *   down                    stop it and remove every trace (of one node or two: no flag needed)
 *   status                  components, nodes, IP families, enforcement, guards
 *   enforcement on|off      switch enforcement of the running lab (stop kube-router and remove
 *                           its rules and sets / start it and wait until synced)
 *   state                   what the lab could leave on this machine, as sorted lines (addresses,
 *                           routes, links, netns, iptables/ip6tables, ipsets, sysctls, mounts,
 *                           cgroups, processes): taken before lab:up and after lab:down, equal
 *
 * Exit status: 0 done, 1 failed, 2 usage; lab:status exits 0 when the lab is fully up (in the
 * enforcement mode it is in), 1 otherwise.
 */
import { LAB_FAMILIES, type LabFamily } from './config.js';
import { down, formatStatus, setEnforcement, status, up } from './lab.js';
import { machineState } from './state.js';
import { log } from './util.js';

const USAGE =
  'usage: tsx test/lab/cli.ts up [--no-enforcement] [--nodes 1|2] [--family ipv4|dual] | down | status | enforcement on|off | state\n' +
  '  up --family dual (or POLYGRAPH_LAB_FAMILY=dual): pods, nodes and services get IPv4 and IPv6 addresses\n';

const isFamily = (value: string): value is LabFamily =>
  (LAB_FAMILIES as readonly string[]).includes(value);

function enforcementFromEnv(): boolean {
  const value = process.env.POLYGRAPH_LAB_ENFORCEMENT;
  return value === undefined || value === '' || !['0', 'off', 'false', 'no'].includes(value);
}

const isHelp = (arg: string): boolean => ['--help', '-h', 'help'].includes(arg);

async function main(command: string | undefined, args: string[]): Promise<number> {
  if (isHelp(command ?? '') || args.some(isHelp)) {
    process.stdout.write(USAGE);
    return 0;
  }
  switch (command) {
    case 'up': {
      let nodes = process.env.POLYGRAPH_LAB_NODES || '1';
      let family = process.env.POLYGRAPH_LAB_FAMILY || 'ipv4';
      const rest: string[] = [];
      for (let i = 0; i < args.length; i++) {
        const a = args[i] ?? '';
        if (a === '--nodes') nodes = args[++i] ?? '';
        else if (a.startsWith('--nodes=')) nodes = a.slice('--nodes='.length);
        else if (a === '--family') family = args[++i] ?? '';
        else if (a.startsWith('--family=')) family = a.slice('--family='.length);
        else rest.push(a);
      }
      if (rest.some((a) => a !== '--no-enforcement') || !['1', '2'].includes(nodes)) break;
      if (!isFamily(family)) break;
      await up({
        enforcement: !rest.includes('--no-enforcement') && enforcementFromEnv(),
        nodes: Number(nodes),
        family,
      });
      return 0;
    }
    case 'down':
      if (args.length > 0) break;
      await down();
      return 0;
    case 'status': {
      if (args.length > 0) break;
      const s = await status();
      process.stdout.write(`${formatStatus(s)}\n`);
      return s.up ? 0 : 1;
    }
    case 'enforcement': {
      const [mode, ...rest] = args;
      if ((mode !== 'on' && mode !== 'off') || rest.length > 0) break;
      await setEnforcement(mode === 'on');
      process.stdout.write(`${formatStatus(await status())}\n`);
      return 0;
    }
    case 'state':
      if (args.length > 0) break;
      process.stdout.write(await machineState());
      return 0;
    default:
      break;
  }
  process.stderr.write(USAGE);
  return 2;
}

if (process.getuid?.() !== 0 && !process.argv.slice(2).some(isHelp)) {
  process.stderr.write('the lab needs root (network namespaces, iptables, cgroups)\n');
  process.exit(1);
}

main(process.argv[2], process.argv.slice(3)).then(
  (code) => {
    process.exit(code);
  },
  (error: unknown) => {
    log(`FAILED: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
