/**
 * The scenario file format, `polygraph.dev/v1alpha1` `Scenario` (docs/SCENARIOS.md): one schema
 * definition from which come the TypeScript types of a parsed file, the shape validation (every
 * issue with its path) and the published JSON Schema (schemas/scenario.schema.json, written by
 * `npm run schema`). What the schema cannot say (references that must resolve, names that must
 * be unique, tables whose rows fit their header) is checked afterwards, in resolve.ts.
 */
import { z } from 'zod';

export const SCENARIO_API_VERSION = 'polygraph.dev/v1alpha1';
export const SCENARIO_KIND = 'Scenario';

const PROTOCOL = z.enum(['TCP', 'UDP', 'SCTP']);
const LABEL_VALUES = z
  .record(z.string(), z.string())
  .describe('Kubernetes labels: keys and values as the API server validates them');

const PORT_EXPECTED = 'a port number, "PORT/PROTOCOL" or {port, protocol, name}';

/** `80`, `"80/UDP"`, or `{port: 80, protocol: UDP, name: dns}`. */
const SERVED_PORT = z
  .union([
    z.int().min(1).max(65535).describe('a TCP port number'),
    z
      .string()
      .regex(/^\d+(\/(TCP|UDP|SCTP|tcp|udp|sctp))?$/, { error: PORT_EXPECTED })
      .describe('PORT/PROTOCOL, e.g. "53/UDP"'),
    z
      .strictObject({
        port: z.int().min(1).max(65535),
        protocol: PROTOCOL.optional().describe('default TCP'),
        name: z
          .string()
          .optional()
          .describe('the container port name (an IANA service name) that named policy ports match'),
      })
      .describe('a port with a name or a protocol'),
  ])
  .describe(PORT_EXPECTED);

const POD = z
  .strictObject({
    labels: LABEL_VALUES.optional(),
    ports: z
      .array(SERVED_PORT)
      .optional()
      .describe('the ports the pod serves (its container ports)'),
    ips: z
      .array(z.string())
      .optional()
      .describe('status.podIPs, for ipBlock peers in offline checks; a live run uses the real IPs'),
    hostNetwork: z.boolean().optional(),
    node: z.string().optional().describe('spec.nodeName'),
  })
  .describe('a probe pod');

const NAMESPACE = z.strictObject({
  labels: LABEL_VALUES.optional(),
  pods: z.record(z.string(), POD).optional().describe('pods by name'),
});

const EXTERNAL = z
  .strictObject({
    ip: z.string().describe('the address ipBlock peers match'),
    ports: z.array(SERVED_PORT).optional().describe('the ports the host serves'),
  })
  .describe('a host outside the cluster (a backup server, an external database)');

const NODE = z
  .strictObject({
    ip: z.string().describe("the node's InternalIP"),
    ports: z.array(SERVED_PORT).optional(),
    labels: LABEL_VALUES.optional().describe(
      "the node's labels, which nodes peers of cluster policies select",
    ),
  })
  .describe('a cluster node: traffic between it and its own pods is always allowed');

const PATHS = z.array(z.string()).describe('files or directories, relative to the scenario file');

const TOPOLOGY = z
  .strictObject({
    namespaces: z.record(z.string(), NAMESPACE).optional().describe('namespaces by name'),
    externals: z.record(z.string(), EXTERNAL).optional().describe('non-pod peers by name'),
    nodes: z.record(z.string(), NODE).optional().describe('cluster nodes by name'),
    manifests: PATHS.optional().describe(
      'Kubernetes manifests whose Namespaces, Pods, workloads and Nodes join the topology',
    ),
  })
  .describe('namespaces and their pods, external hosts, nodes, or manifests to read them from');

const INLINE_OBJECT = z
  .looseObject({ apiVersion: z.string(), kind: z.string() })
  .describe(
    'an inline Kubernetes object (a NetworkPolicy, ClusterNetworkPolicy, AdminNetworkPolicy or BaselineAdminNetworkPolicy)',
  );

const POLICY_SOURCE = z
  .union([
    z.string().describe('a file or directory of NetworkPolicies and cluster policies'),
    INLINE_OBJECT,
  ])
  .describe('a path, or an inline NetworkPolicy or cluster policy');

const OPTIONS = z
  .strictObject({
    selfTraffic: z
      .enum(['allow', 'policy'])
      .optional()
      .describe('a pod connecting to itself: allow (default) or evaluate policies'),
    ipBlockMatchesPods: z
      .boolean()
      .optional()
      .describe('whether ipBlock peers match pod IPs (default true)'),
    hostNetwork: z
      .enum(['node', 'pod'])
      .optional()
      .describe('hostNetwork pods: node traffic (default) or ordinary pods'),
  })
  .describe('the model switches for behaviours the spec leaves to the network plugin');

export const VERDICTS = ['allow', 'deny', 'unresolvable'] as const;
const VERDICT = z.enum(VERDICTS);

/** `from PATTERN to PATTERN on PROBE over FAMILY` (each part optional, at least one). */
export const RULE_KEY_PATTERN = /^\s*(from|to|on|over)\s/;

const RULE_KEY = z.string().regex(RULE_KEY_PATTERN, {
  error: 'a rule "from PATTERN to PATTERN on PROBE over FAMILY" (each part optional)',
});

const RULE = z
  .record(RULE_KEY, VERDICT)
  .describe(
    'one rule: "from PATTERN to PATTERN on PROBE over FAMILY": allow | deny | unresolvable (over IPv4 / over IPv6: flows of that family only; without it, every family)',
  );

const EXPECTATION = z
  .strictObject({
    default: VERDICT.exclude(['unresolvable'])
      .optional()
      .describe(
        'every cell starts with this verdict; without it, cells no rule covers are unchecked',
      ),
    rules: z.array(RULE).optional().describe('ordered: a later rule wins'),
    tables: z
      .record(z.string(), z.string())
      .optional()
      .describe(
        'per probe, a table: rows sources, columns destinations, "." allow, "X" deny, "?" unresolvable, "-" unchecked',
      ),
  })
  .describe('the expected allow/deny matrix');

const POD_REF = z.string().describe('namespace/pod');

const ACTION = z.union([
  z
    .strictObject({
      apply: z
        .union([POLICY_SOURCE, z.array(POLICY_SOURCE)])
        .describe('a path, an inline NetworkPolicy, or a list of them'),
    })
    .describe('apply NetworkPolicies'),
  z
    .strictObject({
      deletePolicy: z
        .union([z.string(), z.array(z.string())])
        .describe('NAMESPACE/NAME, or a list of them'),
    })
    .describe('delete NetworkPolicies by namespace/name'),
  z
    .strictObject({
      deleteClusterPolicy: z
        .union([z.string(), z.array(z.string())])
        .describe(
          'KIND/NAME (ClusterNetworkPolicy/NAME, AdminNetworkPolicy/NAME, BaselineAdminNetworkPolicy/default), or NAME when one cluster policy has it; or a list of them',
        ),
    })
    .describe('delete cluster policies applied earlier'),
  z
    .strictObject({
      label: z.strictObject({
        pod: POD_REF.optional(),
        namespace: z.string().optional(),
        labels: z
          .record(z.string(), z.string().nullable())
          .describe('the labels to set, merged into the current ones; null removes a label'),
      }),
    })
    .describe('change the labels of a pod or a namespace'),
  z
    .strictObject({
      createPod: z.strictObject({ pod: POD_REF, ...POD.shape }),
    })
    .describe('create a probe pod'),
  z
    .strictObject({
      deletePod: z.union([POD_REF, z.array(POD_REF)]).describe('NAMESPACE/POD, or a list of them'),
    })
    .describe('delete probe pods'),
]);

export const HOLD_KEY_PATTERN = /^\s*from\s+\S+\s+to\s+\S+\s+on\s+\S+\s*$/;

const HOLD = z
  .union([
    z
      .string()
      .regex(HOLD_KEY_PATTERN, {
        error: 'a held connection "from NS/POD to NS/POD on PORT/PROTOCOL"',
      })
      .describe('"from NS/POD to NS/POD on PORT/PROTOCOL": held, observed, no expectation'),
    z
      .strictObject({
        from: POD_REF.describe('the source pod, NAMESPACE/POD (the client runs there)'),
        to: POD_REF.describe('the destination pod, NAMESPACE/POD'),
        port: z
          .union([z.int().min(1).max(65535), z.string()])
          .describe('PORT[/PROTOCOL] or NAME[/PROTOCOL] the destination serves; TCP or UDP'),
        expect: z
          .enum(['open', 'reset', 'dropped'])
          .optional()
          .describe(
            'what the connection does after the step: open (still answers), reset (ended: RST, or an ICMP error on UDP), dropped (no answer)',
          ),
      })
      .describe('a held connection with its expected outcome'),
  ])
  .describe(
    "a connection opened before the step's actions and used again after them (docs/SCENARIOS.md)",
  );

const STEP = z.strictObject({
  name: z.string().min(1),
  description: z.string().optional(),
  hold: z
    .array(HOLD)
    .optional()
    .describe("connections opened before the step's actions and tested after them"),
  actions: z.array(ACTION).optional(),
  expect: EXPECTATION.optional(),
});

const DEVIATION = z
  .strictObject({
    plugin: z.string().min(1).describe('the network plugin, e.g. kube-router'),
    versions: z.string().optional().describe('the versions seen deviating, for people'),
    step: z.string().optional().describe('the step it applies to (default: every step)'),
    cells: z.array(RULE_KEY).min(1).describe('"from PATTERN to PATTERN on PROBE"'),
    observed: VERDICT.exclude(['unresolvable']).describe('what the plugin does on those cells'),
    intermittent: z
      .boolean()
      .optional()
      .describe(
        'the plugin shows `observed` on some tries and the verdict of the spec on others (default false)',
      ),
    reason: z.string().min(1),
  })
  .describe('cells where a network plugin is known to deviate from the spec');

export const SCENARIO = z
  .strictObject({
    $schema: z.string().optional(),
    apiVersion: z.literal(SCENARIO_API_VERSION),
    kind: z.literal(SCENARIO_KIND),
    metadata: z.strictObject({
      name: z.string().min(1),
      description: z.string().optional(),
      source: z.string().optional().describe('where the expectations come from'),
    }),
    topology: TOPOLOGY,
    policies: z.array(POLICY_SOURCE).optional().describe('applied before the first step'),
    options: OPTIONS.optional(),
    probes: z
      .array(
        z
          .union([z.int().min(1).max(65535), z.string()])
          .describe('a port number, or "PORT/PROTOCOL" or "NAME/PROTOCOL"'),
      )
      .optional()
      .describe('PORT[/PROTOCOL] or NAME[/PROTOCOL]; default: every port a pod or host serves'),
    expect: EXPECTATION.optional().describe('the expectation of a scenario without steps'),
    steps: z.array(STEP).optional(),
    knownDeviations: z.array(DEVIATION).optional(),
  })
  .describe('A polygraph scenario: a topology, NetworkPolicies, steps and the expected matrix.');

export type ScenarioFile = z.infer<typeof SCENARIO>;
export type ExpectationFile = z.infer<typeof EXPECTATION>;
export type ActionFile = z.infer<typeof ACTION>;
export type PodFile = z.infer<typeof POD>;
export type ServedPortFile = z.infer<typeof SERVED_PORT>;
export type PolicySourceFile = z.infer<typeof POLICY_SOURCE>;
export type DeviationFile = z.infer<typeof DEVIATION>;
export type HoldFile = z.infer<typeof HOLD>;

/** The published JSON Schema (draft 2020-12). */
export function scenarioJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(SCENARIO, { target: 'draft-2020-12', io: 'input' }),
    $id: 'https://polygraph.dev/schemas/scenario.schema.json',
    title: 'polygraph Scenario (polygraph.dev/v1alpha1)',
  };
}
