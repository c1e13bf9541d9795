#!/usr/bin/env node
// Runs shell commands at once (npm test's and npm run lint's independent checks: the machine's
// cores are otherwise idle while ESLint, Prettier and tsc each use one), keeps each command's
// output and prints it whole when the command ends, so that outputs never interleave. Exits 1 if
// any command failed, after all have ended.
//   node scripts/parallel.js "eslint ." "prettier --check ." ...
import { Buffer } from 'node:buffer';
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import process from 'node:process';

const commands = process.argv.slice(2);
if (commands.length === 0) {
  process.stderr.write('usage: node scripts/parallel.js COMMAND...\n');
  process.exit(2);
}

function run(command) {
  const start = performance.now();
  return new Promise((resolve) => {
    const chunks = [];
    const child = spawn(command, { shell: true, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (c) => chunks.push(c));
    child.stderr.on('data', (c) => chunks.push(c));
    child.on('error', (error) => chunks.push(Buffer.from(`${error.message}\n`)));
    child.on('close', (code, signal) => {
      const ok = code === 0;
      const seconds = ((performance.now() - start) / 1000).toFixed(1);
      const how = ok ? 'ok' : `FAILED (${signal ?? `exit ${String(code)}`})`;
      process.stdout.write(`--- ${command}: ${how} in ${seconds} s\n`);
      process.stdout.write(Buffer.concat(chunks));
      resolve(ok);
    });
  });
}

const results = await Promise.all(commands.map(run));
process.exit(results.every(Boolean) ? 0 : 1);
