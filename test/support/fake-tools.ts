/**
 * Recording fakes of docker, kind, kubectl, helm and the cilium CLI: executables in a temporary
 * directory that becomes the whole PATH of the process under test. Each appends one JSON line
 * {tool, args, stdin} to a log (stdin only when an argument is "-") and answers by the first rule
 * that matches its arguments, falling back to plausible defaults (exit 0, version strings of the
 * pinned versions). A fake cluster is a unit-test seam, never the proof: these tests pin down the
 * commands polygraph runs, in their order, not how kind or a CNI behave.
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type FakeTool = 'docker' | 'kind' | 'kubectl' | 'helm' | 'cilium';
export const FAKE_TOOLS: readonly FakeTool[] = ['docker', 'kind', 'kubectl', 'helm', 'cilium'];

/** An answer for calls of `tool` whose arguments include every string of `match`. */
export interface Rule {
  tool: FakeTool;
  match: string[];
  exitCode?: number;
  stdout?: string;
  stderr?: string;
}

export interface Call {
  tool: FakeTool;
  args: string[];
  stdin?: string;
}

/** What the real tools answer to what polygraph asks them, at the pinned versions. */
export const DEFAULT_RULES: readonly Rule[] = [
  { tool: 'docker', match: ['version'], stdout: '28.3.2\n' },
  // Not in the local image store: polygraph pulls it.
  {
    tool: 'docker',
    match: ['image', 'inspect'],
    exitCode: 1,
    stderr: 'Error response from daemon: No such image\n',
  },
  { tool: 'kind', match: ['version'], stdout: 'kind v0.31.0 go1.25.5 linux/amd64\n' },
  { tool: 'kind', match: ['get', 'clusters'], stderr: 'No kind clusters found.\n' },
  {
    tool: 'kubectl',
    match: ['version', '--client'],
    stdout: `${JSON.stringify({ clientVersion: { gitVersion: 'v1.35.0' }, kustomizeVersion: 'v5.7.1' })}\n`,
  },
  {
    tool: 'cilium',
    match: ['version', '--client'],
    stdout: 'cilium-cli: v0.19.0 compiled with go1.25.5 on linux/amd64\n',
  },
  { tool: 'helm', match: ['version'], stdout: 'v3.19.0+g3d8990f\n' },
];

export class FakeTools {
  readonly dir: string;
  readonly bin: string;
  private readonly log: string;
  private readonly rules: string;

  /** `omit`: tools that are not installed at all. */
  constructor(overrides: readonly Rule[] = [], omit: readonly FakeTool[] = []) {
    this.dir = mkdtempSync(join(tmpdir(), 'polygraph-fakes-'));
    this.bin = join(this.dir, 'bin');
    this.log = join(this.dir, 'calls.jsonl');
    this.rules = join(this.dir, 'rules.json');
    writeFileSync(this.log, '');
    writeFileSync(this.rules, JSON.stringify([...overrides, ...DEFAULT_RULES]));
    // The fakes are CommonJS scripts whatever package.json is above the temporary directory.
    writeFileSync(join(this.dir, 'package.json'), '{"type":"commonjs"}\n');
    const script = `#!${process.execPath}
const fs = require('node:fs');
const path = require('node:path');
const tool = path.basename(process.argv[1]);
const args = process.argv.slice(2);
const call = { tool, args };
if (args.includes('-')) call.stdin = fs.readFileSync(0, 'utf8');
fs.appendFileSync(${JSON.stringify(this.log)}, JSON.stringify(call) + '\\n');
const rules = JSON.parse(fs.readFileSync(${JSON.stringify(this.rules)}, 'utf8'));
const rule = rules.find((r) => r.tool === tool && r.match.every((m) => args.includes(m)));
if (rule && rule.stdout) process.stdout.write(rule.stdout);
if (rule && rule.stderr) process.stderr.write(rule.stderr);
process.exitCode = rule && rule.exitCode !== undefined ? rule.exitCode : 0;
`;
    mkdirSync(this.bin);
    for (const tool of FAKE_TOOLS) {
      if (omit.includes(tool)) continue;
      const file = join(this.bin, tool);
      writeFileSync(file, script);
      chmodSync(file, 0o755);
    }
  }

  calls(): Call[] {
    return readFileSync(this.log, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Call);
  }

  /** Each call as one command line, e.g. "kind create cluster --name polygraph …". */
  lines(): string[] {
    return this.calls().map((c) => [c.tool, ...c.args].join(' '));
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
