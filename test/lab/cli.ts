/**
 * `npm run lab:up | lab:down | lab:status` — a thin entry point over test/lab/lab.ts.
 * Exit status: 0 done, 1 failed, 2 usage; lab:status exits 0 when the lab is fully up, 1 otherwise.
 */
import { down, formatStatus, status, up } from './lab.js';
import { log } from './util.js';

async function main(command: string | undefined): Promise<number> {
  switch (command) {
    case 'up':
      await up();
      return 0;
    case 'down':
      await down();
      return 0;
    case 'status': {
      const s = await status();
      process.stdout.write(`${formatStatus(s)}\n`);
      return s.up ? 0 : 1;
    }
    default:
      process.stderr.write('usage: tsx test/lab/cli.ts up|down|status\n');
      return 2;
  }
}

if (process.getuid?.() !== 0) {
  process.stderr.write('the lab needs root (network namespaces, iptables, cgroups)\n');
  process.exit(1);
}

main(process.argv[2]).then(
  (code) => {
    process.exit(code);
  },
  (error: unknown) => {
    log(`FAILED: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
