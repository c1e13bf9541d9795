/**
 * The result document as JUnit XML, the shape GitHub's, GitLab's and Jenkins' test report parsers
 * read: a testsuite per scenario, a testcase per step × probe; a failure lists the cells of that
 * matrix whose class fails the check or run, each with the model's reason.
 */
import { createRequire } from 'node:module';
import type { CellClass } from '../compare/classify.js';
import type { ResultDocument, StepJson } from './document.js';
import {
  formatCounts,
  heldLine,
  isFailing,
  plural,
  stepGrids,
  TITLE,
  type CellView,
} from './result-view.js';

/** Ant's timestamp shape (no zone; UTC), which every JUnit reader accepts. */
function antTimestamp(iso: string): string {
  return new Date(iso).toISOString().slice(0, 19);
}

function seconds(ms: number | undefined): string {
  return ((ms ?? 0) / 1000).toFixed(3);
}

function cellLines(cell: CellView): string[] {
  const parts = [`expected ${cell.expected ?? 'nothing'}`, `the spec says ${cell.modelled}`];
  if (cell.observed !== undefined) parts.push(`observed ${cell.observed}`);
  const where = cell.placement === undefined ? '' : ` ${cell.placement}`;
  const lines = [
    `${cell.probe} ${cell.from} -> ${cell.to}${where}: ${parts.join(', ')} (${cell.class})`,
  ];
  if (cell.explanation !== undefined) lines.push(`  ${cell.explanation}`);
  if (cell.detail !== undefined) lines.push(`  probe: ${cell.detail}`);
  if (cell.reproduce !== undefined) lines.push(`  reproduce: ${cell.reproduce}`);
  return lines;
}

interface Case {
  readonly name: string;
  readonly time: string;
  readonly failing: readonly CellView[];
  /** A held connection that disagrees: the failure's message and text. */
  readonly heldFailure?: string;
  readonly skipped?: string;
  readonly out: string;
}

/** One test case per held connection: it fails when it disagrees with the step's expectation. */
function heldCases(step: StepJson, steps: number): Case[] {
  return (step.held ?? []).map((h) => {
    const line = heldLine(h);
    const out = [line, ...(h.detail === undefined ? [] : [`  client: ${h.detail}`])].join('\n');
    const name = `step ${String(step.index + 1)}/${String(steps)} ${step.name}: held ${h.probe} ${h.from} -> ${h.to}`;
    const skipped =
      h.class === 'probe-error' || h.class === 'skipped'
        ? `${h.class}: ${h.detail ?? 'no detail'}`
        : h.class === 'not-checkable-offline'
          ? 'a held connection is not checkable offline: it needs a cluster (polygraph run)'
          : undefined;
    return {
      name,
      time: seconds(0),
      failing: [],
      ...(h.class === 'disagree' ? { heldFailure: out } : {}),
      ...(skipped === undefined ? {} : { skipped }),
      out,
    };
  });
}

function stepCases(
  step: StepJson,
  steps: number,
  nodes: Readonly<Record<string, string>> | undefined,
): Case[] {
  return [...gridCases(step, steps, nodes), ...familyCases(step, steps), ...heldCases(step, steps)];
}

/**
 * Flows whose IP families were decided differently: one case per step that has any, passing (each
 * family's cell is judged in its grid's case), its output naming them.
 */
function familyCases(step: StepJson, steps: number): Case[] {
  const notes = step.familyNotes ?? [];
  if (notes.length === 0) return [];
  return [
    {
      name: `step ${String(step.index + 1)}/${String(steps)} ${step.name}: IP families`,
      time: '0',
      failing: [],
      out: notes.map((n) => `${n.probe} ${n.from} -> ${n.to}: ${n.note}`).join('\n'),
    },
  ];
}

function gridCases(
  step: StepJson,
  steps: number,
  nodes: Readonly<Record<string, string>> | undefined,
): Case[] {
  const grids = stepGrids(step, nodes);
  const time = seconds(
    step.timing?.durationMs === undefined ? undefined : step.timing.durationMs / grids.length,
  );
  return grids.map((grid) => {
    const failing = grid.cells.filter((c) => isFailing(c.class));
    const judged = grid.cells.filter((c) => c.class !== 'unresolvable' && c.class !== 'skipped');
    const notes = grid.cells.filter((c) => !isFailing(c.class) && c.class !== 'agree');
    const classes: Partial<Record<CellClass, number>> = {};
    for (const c of grid.cells) classes[c.class] = (classes[c.class] ?? 0) + 1;
    const placed = grid.cells.filter((c) => c.crossNode !== undefined);
    const across = placed.filter((c) => c.crossNode === true).length;
    const out = [
      formatCounts({ cells: grid.cells.length, classes }),
      ...(placed.length === 0 || across === 0
        ? []
        : [
            `across nodes: ${String(across)} of ${plural(placed.length, 'cell')} between pods; on one node: ${String(placed.length - across)}`,
          ]),
      ...(step.timing?.timeToEnforceMs === undefined
        ? []
        : [`time to enforce: ${seconds(step.timing.timeToEnforceMs)} s`]),
      ...notes
        .filter((c) => c.class !== 'unchecked' && c.class !== 'unresolvable')
        .flatMap(cellLines),
    ];
    return {
      name: `step ${String(step.index + 1)}/${String(steps)} ${step.name}: ${grid.probe}`,
      time,
      failing,
      ...(judged.length === 0
        ? { skipped: `no cell to judge: ${plural(grid.cells.length, 'cell')}, none decided` }
        : {}),
      out: out.join('\n'),
    };
  });
}

/**
 * xmlbuilder2, loaded on the first JUnit report (about 0.1 s of a command's start, which the
 * commands that write none, `check` among them, do not pay); synchronous, as its package is CommonJS.
 */
let xml: typeof import('xmlbuilder2') | undefined;
function xmlbuilder(): typeof import('xmlbuilder2') {
  xml ??= createRequire(import.meta.url)('xmlbuilder2') as typeof import('xmlbuilder2');
  return xml;
}

export function renderJunit(doc: ResultDocument): string {
  const { create } = xmlbuilder();
  const command = doc.kind === 'RunResult' ? 'run' : 'check';
  const suites = doc.scenarios.map((scenario) => {
    const cases = scenario.steps.flatMap((s) =>
      stepCases(s, scenario.steps.length, scenario.live?.nodes),
    );
    return { scenario, cases };
  });
  const count = (cases: readonly Case[]) => ({
    tests: cases.length,
    failures: cases.filter((c) => c.failing.length > 0 || c.heldFailure !== undefined).length,
    skipped: cases.filter(
      (c) => c.failing.length === 0 && c.heldFailure === undefined && c.skipped !== undefined,
    ).length,
  });
  const all = count(suites.flatMap((s) => s.cases));
  const stamp = doc.startedAt ?? doc.generatedAt;
  const root = create({
    version: '1.0',
    encoding: 'UTF-8',
    invalidCharReplacement: '\uFFFD',
  });
  const top = root.ele('testsuites', {
    name: `polygraph ${command}`,
    tests: String(all.tests),
    failures: String(all.failures),
    errors: '0',
    skipped: String(all.skipped),
    time: seconds(doc.durationMs),
  });
  for (const { scenario, cases } of suites) {
    const n = count(cases);
    const suite = top.ele('testsuite', {
      name: scenario.name,
      tests: String(n.tests),
      failures: String(n.failures),
      errors: '0',
      skipped: String(n.skipped),
      time: seconds(scenario.durationMs),
      ...(stamp === undefined ? {} : { timestamp: antTimestamp(stamp) }),
    });
    const properties = suite.ele('properties');
    properties.ele('property', { name: 'file', value: scenario.file });
    properties.ele('property', { name: 'summary', value: formatCounts(scenario.summary) });
    if (scenario.live?.placement !== undefined)
      properties.ele('property', { name: 'placement', value: scenario.live.placement });
    for (const [pod, node] of Object.entries(scenario.live?.nodes ?? {}))
      properties.ele('property', { name: `node.${pod}`, value: node });
    for (const [name, value] of Object.entries(doc.cluster ?? {}))
      if (value !== undefined && value !== null)
        properties.ele('property', {
          name: `cluster.${name}`,
          value: typeof value === 'string' ? value : JSON.stringify(value),
        });
    for (const c of cases) {
      const tc = suite.ele('testcase', { name: c.name, classname: scenario.name, time: c.time });
      if (c.failing.length > 0) {
        const classes = [...new Set(c.failing.map((f) => f.class))];
        tc.ele('failure', {
          message: `${plural(c.failing.length, 'cell')} disagree: ${classes.map((k) => TITLE[k]).join('; ')}`,
          type: classes.join(','),
        }).txt(c.failing.flatMap(cellLines).join('\n'));
      } else if (c.heldFailure !== undefined) {
        tc.ele('failure', {
          message: 'the held connection disagrees with the expectation',
          type: 'held-disagree',
        }).txt(c.heldFailure);
      } else if (c.skipped !== undefined) tc.ele('skipped', { message: c.skipped });
      tc.ele('system-out').txt(c.out);
    }
  }
  return root.end({ prettyPrint: true });
}
