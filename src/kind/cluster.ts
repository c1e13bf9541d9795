/**
 * Runs the plans of src/kind/plan.ts with execa: preflight (each tool present, answering and
 * recent enough), then each step in order, progress on the given sink (stderr). Any failure is a
 * ToolError naming the step, the command, the tail of its output and what to do.
 */
import { ToolError } from '../domain/errors.js';
import type { Cni } from './config.js';
import {
  contextOf,
  downRequirements,
  downSteps,
  upRequirements,
  upSteps,
  type Requirement,
  type Step,
  type Tool,
  type UpOptions,
} from './plan.js';
import { TIMEOUTS, VERSIONS } from './versions.js';

/** Where progress lines go (stderr in the CLI). */
export type Progress = (line: string) => void;

interface Outcome {
  readonly exitCode: number | undefined;
  readonly stdout: string;
  readonly stderr: string;
  readonly missing: boolean;
  readonly timedOut: boolean;
}

/** A command line as a person would type it (arguments with spaces or quotes quoted). */
export function commandLine(tool: string, args: readonly string[]): string {
  const quote = (a: string): string =>
    /^[\w@%+=:,./{}-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
  return [tool, ...args].map(quote).join(' ');
}

async function exec(
  tool: Tool,
  args: readonly string[],
  timeoutSeconds: number,
  input?: string,
): Promise<Outcome> {
  // Loaded here: the offline commands never start a process, and the import costs 0.1 s.
  const { execa } = await import('execa');
  const r = await execa(tool, args, {
    reject: false,
    // A margin over the tool's own --timeout, so that its message wins.
    timeout: (timeoutSeconds + 60) * 1000,
    ...(input === undefined ? { stdin: 'ignore' as const } : { input }),
  });
  return {
    exitCode: r.exitCode,
    stdout: r.stdout,
    stderr: r.stderr,
    missing: (r as { code?: unknown }).code === 'ENOENT',
    timedOut: r.timedOut,
  };
}

function tail(text: string, lines = 12): string {
  const all = text.trimEnd().split('\n');
  const kept = all.slice(-lines).map((l) => `    ${l}`);
  return (all.length > lines ? ['    …', ...kept] : kept).join('\n');
}

const compare = (a: string, b: string): number => {
  const pa = a.replace(/^v/, '').split('.').map(Number);
  const pb = b.replace(/^v/, '').split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
};

/** Each tool present, answering, and not older than its minimum; the versions found. */
async function preflight(
  requirements: readonly Requirement[],
  progress: Progress,
): Promise<Map<Tool, string>> {
  const found = new Map<Tool, string>();
  for (const req of requirements) {
    const step = `check ${req.tool}`;
    const command = commandLine(req.tool, req.args);
    const r = await exec(req.tool, req.args, 60);
    if (r.missing)
      throw new ToolError(`${req.tool} is not installed (not found on PATH)`, {
        tool: req.tool,
        step,
        hint: req.hint,
      });
    if (r.exitCode !== 0) {
      const problem =
        req.tool === 'docker'
          ? 'docker is installed but its engine does not answer'
          : `${req.tool} does not answer`;
      throw new ToolError(
        `${problem}: \`${command}\` exited ${String(r.exitCode ?? 'on a signal')}\n${tail(r.stderr || r.stdout)}`,
        { tool: req.tool, step, command, hint: req.hint },
      );
    }
    const version = req.parse(r.stdout);
    if (req.minimum !== undefined) {
      if (version === undefined)
        throw new ToolError(`cannot read ${req.tool}'s version from \`${command}\``, {
          tool: req.tool,
          step,
          command,
          hint: req.hint,
        });
      if (compare(version, req.minimum) < 0)
        throw new ToolError(
          `${req.tool} v${version} is too old: polygraph needs ${req.minimum} or newer`,
          { tool: req.tool, step, command, hint: req.hint },
        );
    }
    found.set(req.tool, version === undefined ? '?' : `v${version}`);
    progress(`polygraph: ${req.tool} ${version === undefined ? 'found' : `v${version}`}`);
  }
  return found;
}

async function runStep(
  step: Step,
  progress: Progress,
  index: string,
  /** Added to the step's own hint when it fails. */
  afterwards?: string,
): Promise<void> {
  progress(`polygraph: [${index}] ${step.title}`);
  switch (step.kind) {
    case 'pull-if-absent': {
      const inspect = ['image', 'inspect', '--format', '{{.Id}}', step.image];
      progress(`  $ ${commandLine('docker', inspect)}`);
      const present = await exec('docker', inspect, 60);
      if (present.exitCode === 0) {
        progress('  present');
        return;
      }
      await runStep(
        {
          kind: 'run',
          title: `pull ${step.image}`,
          tool: 'docker',
          args: ['pull', step.image],
          timeoutSeconds: TIMEOUTS.slowCommand,
          hint: 'is the registry reachable from this machine? For a private image: docker login',
        },
        progress,
        `${index}a`,
        afterwards,
      );
      return;
    }
    case 'run': {
      const command = commandLine(step.tool, step.args);
      progress(`  $ ${command}${step.input === undefined ? '' : ' <<EOF'}`);
      // What goes to stdin (the kind config), so that the step can be repeated by hand.
      if (step.input !== undefined) progress(`${step.input.trimEnd()}\nEOF`.replace(/^/gm, '  '));
      const r = await exec(step.tool, step.args, step.timeoutSeconds, step.input);
      if (r.exitCode === 0 && !r.timedOut) return;
      const hints = [
        ...(r.missing ? [`${step.tool} is not installed (not found on PATH)`] : []),
        ...(step.hint === undefined ? [] : [step.hint]),
        ...(afterwards === undefined ? [] : [afterwards]),
      ];
      const how = r.timedOut
        ? `timed out after ${String(step.timeoutSeconds + 60)} s`
        : r.missing
          ? 'could not start'
          : `exited ${String(r.exitCode ?? 'on a signal')}`;
      throw new ToolError(
        `\`${command}\` ${how}${r.stderr || r.stdout ? `:\n${tail(r.stderr || r.stdout)}` : ''}`,
        { tool: step.tool, step: step.title, command, hint: hints.join('; ') },
      );
    }
  }
}

export interface UpReport {
  readonly name: string;
  readonly context: string;
  readonly cni: Cni;
  readonly cniVersion: string;
  readonly nodeImage: string;
  readonly image: string;
  readonly tools: ReadonlyMap<Tool, string>;
}

/** `polygraph cluster up`: a kind cluster with the CNI ready and the probe image loaded. */
export async function clusterUp(options: UpOptions, progress: Progress): Promise<UpReport> {
  const tools = await preflight(upRequirements(options.cni), progress);
  const list = await exec('kind', ['get', 'clusters'], 60);
  if (list.exitCode === 0 && list.stdout.split('\n').some((l) => l.trim() === options.name))
    throw new ToolError(`a kind cluster named "${options.name}" already exists`, {
      tool: 'kind',
      step: 'check for an existing cluster',
      command: 'kind get clusters',
      hint: `remove it with polygraph cluster down --name ${options.name}, or choose another --name`,
    });
  const steps = upSteps(options);
  const created = steps.findIndex((s) => s.kind === 'run' && s.tool === 'kind');
  const leftAsIs = `the cluster is left as it is for inspection; remove it with polygraph cluster down --name ${options.name}`;
  for (const [i, step] of steps.entries())
    await runStep(
      step,
      progress,
      `${String(i + 1)}/${String(steps.length)}`,
      i > created ? leftAsIs : undefined,
    );
  return {
    name: options.name,
    context: contextOf(options.name),
    cni: options.cni,
    cniVersion:
      options.cni === 'calico'
        ? VERSIONS.calico
        : options.cni === 'cilium'
          ? `v${VERSIONS.cilium}`
          : `of kind ${tools.get('kind') ?? '?'}`,
    nodeImage: options.nodeImage,
    image: options.image,
    tools,
  };
}

/** `polygraph cluster down`: deletes the kind cluster (kind succeeds when there is none). */
export async function clusterDown(name: string, progress: Progress): Promise<void> {
  await preflight(downRequirements(), progress);
  const steps = downSteps(name);
  for (const [i, step] of steps.entries())
    await runStep(step, progress, `${String(i + 1)}/${String(steps.length)}`);
}
