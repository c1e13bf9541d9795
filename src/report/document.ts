/**
 * The result document, `polygraph.dev/v1alpha1` `CheckResult` (and, for live runs, `RunResult`):
 * what `check -o json` prints, what `--report json=FILE` writes and what `polygraph report`
 * reads back. One zod definition gives the TypeScript types, the validation of a saved document
 * (every problem with its path) and the published JSON Schema (schemas/result.schema.json), as
 * the scenario format does. Every reporter renders from this document, never from engine types,
 * so any report can be re-rendered from a saved result. Fields of live runs are optional.
 */
import { z } from 'zod';
import { CELL_CLASSES } from '../compare/classify.js';
import { HOLD_CLASSES } from '../compare/hold.js';
import { HOLD_OUTCOMES } from '../domain/hold.js';

export const RESULT_API_VERSION = 'polygraph.dev/v1alpha1';

const CLASS = z.enum(CELL_CLASSES).describe('the comparison class of a cell (docs/REPORTS.md)');
const COUNT = z.int().min(0);

const HOLD_CLASS = z
  .enum(HOLD_CLASSES)
  .describe('the comparison class of a held connection (docs/REPORTS.md)');

const COUNTS_SHAPE = {
  cells: COUNT.describe('cells compared'),
  classes: z
    .partialRecord(CLASS, COUNT)
    .describe('cells per comparison class; classes with no cell are left out'),
  held: z
    .strictObject({
      connections: COUNT,
      classes: z.partialRecord(HOLD_CLASS, COUNT),
    })
    .optional()
    .describe('held connections per class, when some step holds any (apart from the cells)'),
};

const HELD = z
  .strictObject({
    from: z.string(),
    to: z.string(),
    probe: z.string().describe('PORT/PROTOCOL as declared'),
    port: z.int().min(1).max(65535).describe('the destination port'),
    expected: z
      .enum(HOLD_OUTCOMES)
      .optional()
      .describe("the step's statement about the plugin: open, reset or dropped"),
    freshModelled: z
      .enum(['allow', 'deny', 'unresolvable'])
      .optional()
      .describe(
        "context only: the model's verdict for a fresh connection of the same flow after the step (the spec has none for an established one)",
      ),
    observed: z
      .enum([...HOLD_OUTCOMES, 'probe-error', 'skipped'])
      .optional()
      .describe('live runs: what the connection did when used again after the step'),
    class: HOLD_CLASS,
    detail: z.string().optional().describe('what the hold client reported (live runs)'),
    heldMs: z
      .number()
      .min(0)
      .optional()
      .describe('live runs: from its opening exchange to its test'),
  })
  .describe("a connection opened before the step's actions and used again after them");

const OUTCOME = z
  .enum(['allowed', 'denied', 'refused', 'dropped', 'probe-error', 'skipped', 'unresolved-port'])
  .describe('what the cluster did (a live run)');

const ROWS = (what: string) =>
  z
    .array(z.string())
    .describe(`${what}: one string per source row (endpoints order), one character per column`);

const TABLE = z
  .strictObject({
    expected: ROWS('expected: `.` allow, `X` deny, `?` unresolvable, `-` unchecked'),
    modelled: ROWS('modelled: `.` allow, `X` deny, `?` unresolvable'),
    observed: ROWS(
      'observed (live runs): `.` allowed, `R` refused, `D` dropped, `E` probe-error, `S` skipped, `?` unresolved port, `-` not probed',
    ).optional(),
    classes: ROWS(
      'classes: `=` agree, `E` expectation-contradicts-spec, `C` cluster-deviates, `K` known-deviation, `M` model-disagrees, `-` unchecked, `?` unresolvable, `P` probe-error, `S` skipped, `F` flaky',
    ),
  })
  .describe('the truth tables of one probe; a space where there is no cell (external to external)');

const FAMILY = z.union([z.literal(4), z.literal(6)]);

const FAMILY_NOTE = z
  .strictObject({
    from: z.string(),
    to: z.string(),
    probe: z.string().describe('PORT/PROTOCOL, without a family'),
    families: z
      .array(
        z.strictObject({
          family: FAMILY,
          modelled: z.enum(['allow', 'deny', 'unresolvable']),
          observed: OUTCOME.optional(),
        }),
      )
      .describe('per family: the model and, on a live run, the cluster'),
    note: z.string().describe('e.g. "families disagree: IPv4 allow, IPv6 deny"'),
  })
  .describe('a flow whose IP families were decided differently, by the model or on the cluster');

const CELL = z
  .strictObject({
    from: z.string(),
    to: z.string(),
    probe: z
      .string()
      .describe(
        'PORT/PROTOCOL as planned, e.g. 80/TCP or mysql/TCP; followed by the family when the step probes more than one, e.g. 80/TCP IPv6',
      ),
    family: FAMILY.optional().describe(
      'the IP family of the flow, when the step probes more than one',
    ),
    port: z.int().min(1).max(65535).optional().describe('the destination port probed'),
    expected: z.enum(['allow', 'deny', 'unresolvable']).optional(),
    modelled: z.enum(['allow', 'deny', 'unresolvable']),
    observed: OUTCOME.optional(),
    class: CLASS,
    explanation: z
      .string()
      .describe('which policy and rule decided the cell, or why it is unresolvable'),
    detail: z
      .string()
      .optional()
      .describe('what the probe reported (live runs), e.g. the error of a probe-error'),
    reproduce: z
      .string()
      .optional()
      .describe('a command that repeats the probe on the cluster (live runs)'),
    tries: z
      .array(OUTCOME)
      .optional()
      .describe('every outcome, when a disagreeing cell was probed again (live runs)'),
    crossNode: z
      .boolean()
      .optional()
      .describe('live runs, between two pods: whether they ran on different nodes'),
  })
  .describe('one cell: a source, a destination and a probe');

const TIMING = z
  .strictObject({
    durationMs: z.number().min(0).optional().describe('how long the step took'),
    timeToEnforceMs: z
      .number()
      .min(0)
      .optional()
      .describe('how long after the actions the cluster matched the model (live runs)'),
  })
  .describe('timings of a step (live runs)');

const STEP_LIVE = z
  .strictObject({
    probes: COUNT.describe('probes run in the step: settling, the whole table and re-probes'),
    probeMs: z.number().min(0).describe('time spent probing'),
    durationMs: z.number().min(0).describe("from the step's first action to its last result"),
    settle: z.strictObject({
      cells: COUNT.describe('cells whose verdict the step changes, probed until they flip'),
      rounds: COUNT,
      settled: z.boolean().describe('whether every changed cell flipped within the bound'),
      exposureMs: z
        .number()
        .min(0)
        .optional()
        .describe(
          'the exposure window: from the last action until every changed cell was enforced',
        ),
    }),
  })
  .describe('how a step went on a live cluster');

const STEP = z.strictObject({
  index: z.int().min(0).describe('0-based position of the step'),
  name: z.string(),
  summary: z.strictObject(COUNTS_SHAPE),
  endpoints: z.array(z.string()).describe('endpoint keys: rows and columns of every table'),
  probes: z
    .array(z.string())
    .describe('PORT/PROTOCOL; one per probe and family when the step probes more than one family'),
  families: z
    .array(FAMILY)
    .optional()
    .describe('the IP families probed, when more than one (probes and cells then name theirs)'),
  familyNotes: z
    .array(FAMILY_NOTE)
    .optional()
    .describe('flows whose families disagree with each other (absent: none)'),
  tables: z.record(z.string(), TABLE).describe('per probe (as in `probes`)'),
  cells: z
    .array(CELL)
    .describe(
      'the cells worth reading (every class but agree, unchecked and unresolvable); every cell when the document says `listedCells: all`',
    ),
  held: z
    .array(HELD)
    .optional()
    .describe('connections held across the step, every one (absent: the step holds none)'),
  timing: TIMING.optional(),
  live: STEP_LIVE.optional(),
});

const SCENARIO = z.strictObject({
  file: z.string(),
  name: z.string(),
  passed: z.boolean(),
  summary: z.strictObject(COUNTS_SHAPE),
  steps: z.array(STEP),
  durationMs: z.number().min(0).optional(),
  live: z
    .strictObject({
      runId: z.string(),
      server: z.string(),
      namespaces: z.record(z.string(), z.string()).describe('scenario namespace → live namespace'),
      plugin: z.string().optional().describe('the plugin whose known deviations were applied'),
      kept: z.string().optional().describe('left on the cluster (--keep): how to remove it'),
      placement: z
        .enum(['spread', 'pack'])
        .optional()
        .describe('how the probe pods were placed on the nodes, when polygraph placed them'),
      nodes: z.record(z.string(), z.string()).optional().describe('scenario pod → its node'),
    })
    .optional()
    .describe('how the scenario was run on a live cluster'),
});

const CLUSTER = z
  .looseObject({
    context: z.string().optional(),
    server: z.string().optional(),
    kubernetesVersion: z.string().optional(),
    networkPlugin: z.string().optional(),
    nodes: COUNT.optional(),
  })
  .describe('facts about the cluster of a live run; more fields may appear');

export const RESULT_DOCUMENT = z
  .strictObject({
    apiVersion: z.literal(RESULT_API_VERSION),
    kind: z.enum(['CheckResult', 'RunResult']),
    passed: z
      .boolean()
      .describe('no cell of a failing class and no held connection that disagrees'),
    summary: z.strictObject({ scenarios: COUNT, steps: COUNT, ...COUNTS_SHAPE }),
    listedCells: z
      .enum(['notable', 'all'])
      .optional()
      .describe('which cells `steps[].cells` lists; default notable'),
    generator: z
      .strictObject({ name: z.string(), version: z.string() })
      .optional()
      .describe('the program that wrote the document'),
    generatedAt: z.iso.datetime({ offset: true }).optional(),
    startedAt: z.iso.datetime({ offset: true }).optional().describe('start of a live run'),
    durationMs: z.number().min(0).optional(),
    cluster: CLUSTER.optional(),
    scenarios: z.array(SCENARIO),
  })
  .describe('The result of polygraph check (offline) or run (live): per scenario, step and probe.');

export type ResultDocument = z.infer<typeof RESULT_DOCUMENT>;
export type ScenarioJson = ResultDocument['scenarios'][number];
export type StepJson = ScenarioJson['steps'][number];
export type TableJson = StepJson['tables'][string];
export type CellJson = StepJson['cells'][number];
export type HeldJson = NonNullable<StepJson['held']>[number];
export type CountsJson = StepJson['summary'];
export type ClusterJson = NonNullable<ResultDocument['cluster']>;

/** The published JSON Schema (draft 2020-12). */
export function resultJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(RESULT_DOCUMENT, { target: 'draft-2020-12', io: 'input' }),
    $id: 'https://polygraph.dev/schemas/result.schema.json',
    title: 'polygraph result (polygraph.dev/v1alpha1 CheckResult, RunResult)',
  };
}

export interface DocumentProblem {
  /** The field, e.g. `scenarios[0].steps[1].tables.80/TCP.classes[2]`. */
  readonly path: string;
  /** The same path as keys and indexes, to find the field in the text. */
  readonly segments: readonly (string | number)[];
  readonly message: string;
}

function pathText(segments: readonly (string | number)[]): string {
  return segments
    .map((p, i) => (typeof p === 'number' ? `[${String(p)}]` : `${i === 0 ? '' : '.'}${p}`))
    .join('');
}

function problem(segments: (string | number)[], message: string): DocumentProblem {
  return { path: pathText(segments), segments, message };
}

/** Validates a parsed JSON value as a result document: the document, or every problem. */
export function parseResultDocument(
  value: unknown,
): { readonly document: ResultDocument } | { readonly problems: readonly DocumentProblem[] } {
  const parsed = RESULT_DOCUMENT.safeParse(value);
  if (parsed.success) {
    const problems = tableProblems(parsed.data);
    return problems.length === 0 ? { document: parsed.data } : { problems };
  }
  return {
    problems: parsed.error.issues.map((issue) =>
      problem(
        issue.path.map((p) => (typeof p === 'number' ? p : String(p))),
        issue.message,
      ),
    ),
  };
}

/** What the schema cannot say: every probe has its tables, every table fits the endpoints. */
function tableProblems(doc: ResultDocument): DocumentProblem[] {
  const problems: DocumentProblem[] = [];
  doc.scenarios.forEach((scenario, s) => {
    scenario.steps.forEach((step, i) => {
      const at = ['scenarios', s, 'steps', i];
      const n = step.endpoints.length;
      for (const probe of step.probes)
        if (!(probe in step.tables))
          problems.push(problem([...at, 'tables'], `expected a table for probe ${probe}`));
      for (const [probe, table] of Object.entries(step.tables)) {
        if (!step.probes.includes(probe))
          problems.push(problem([...at, 'tables', probe], `${probe} is not in probes`));
        for (const [name, rows] of Object.entries(table)) {
          if (rows === undefined) continue;
          if (rows.length !== n)
            problems.push(
              problem(
                [...at, 'tables', probe, name],
                `expected ${String(n)} rows (one per endpoint), got ${String(rows.length)}`,
              ),
            );
          rows.forEach((row, r) => {
            if (row.length !== n)
              problems.push(
                problem(
                  [...at, 'tables', probe, name, r],
                  `expected ${String(n)} characters (one per endpoint), got ${String(row.length)}`,
                ),
              );
          });
        }
      }
    });
  });
  return problems;
}
