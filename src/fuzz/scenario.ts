/**
 * A fuzz policy set as a scenario (docs/SCENARIOS.md): the fuzz topology, the set's policies,
 * probes on 80 and 81 over TCP and UDP, and no expectation — a fuzz run compares what the cluster
 * does with the model only. The same text is what a minimal case is printed as, with the spec's
 * verdict expected on the cells that differed, so that `polygraph run` of it fails on exactly
 * those cells.
 */
import { Document, isCollection } from 'yaml';
import { parseScenario } from '../dsl/load.js';
import type { Scenario } from '../dsl/types.js';
import type { PolicyObject } from './generate.js';
import { FUZZ_NAMESPACES, FUZZ_PODS, fuzzTopology } from './topology.js';

export const FUZZ_PROBES = ['80/TCP', '80/UDP', '81/TCP', '81/UDP'] as const;

export interface ScenarioText {
  readonly name: string;
  readonly description?: string;
  readonly policies: readonly PolicyObject[];
  readonly externalIp?: string;
  /** Cells expected, with a comment each (written for a minimal case). */
  readonly expect?: readonly { readonly rule: string; readonly comment: string }[];
}

/** The scenario document as YAML text. */
export function scenarioText(s: ScenarioText): string {
  const doc: Record<string, unknown> = {
    apiVersion: 'polygraph.dev/v1alpha1',
    kind: 'Scenario',
    metadata: {
      name: s.name,
      ...(s.description === undefined ? {} : { description: s.description }),
    },
    topology: fuzzTopology(s.externalIp),
    probes: [...FUZZ_PROBES],
    ...(s.policies.length === 0 ? {} : { policies: s.policies }),
  };
  // YAML 1.1, as kubectl reads it (namespace "y" quoted); the topology one line per pod.
  const yaml = new Document(doc, { version: '1.1' });
  for (const ns of FUZZ_NAMESPACES) {
    for (const path of [
      ['topology', 'namespaces', ns, 'labels'],
      ...FUZZ_PODS.map((pod) => ['topology', 'namespaces', ns, 'pods', pod]),
    ]) {
      const node = yaml.getIn(path, true);
      if (isCollection(node)) node.flow = true;
    }
  }
  const external = yaml.getIn(['topology', 'externals'], true);
  if (isCollection(external)) external.flow = true;
  let text = yaml.toString({ lineWidth: 0, flowCollectionPadding: false });
  if (s.expect !== undefined && s.expect.length > 0) {
    text += 'expect:\n  rules:\n';
    for (const e of s.expect) {
      for (const line of e.comment.split('\n')) text += `    # ${line}\n`;
      text += `    - ${e.rule}\n`;
    }
  }
  return text;
}

/** Validates a set as `check` and `run` validate a scenario file: throws InputError if invalid. */
export async function fuzzScenario(s: ScenarioText): Promise<Scenario> {
  return parseScenario(scenarioText(s), `${s.name}.yaml`);
}
