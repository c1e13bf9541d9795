/**
 * When a step probes more than one IP family, the same flow (source, destination, probe) has one
 * cell per family. A dual-stack cluster should treat both alike; where the model or the cluster
 * decides them differently (an ipBlock written for one family), the flow is noted.
 */
import { familyName, outcomeVerdict, type Family, type Outcome } from '../domain/job.js';
import type { ProbePort } from '../domain/probe.js';

/** What the comparison reads of a cell. */
export interface FamilyCell {
  readonly from: string;
  readonly to: string;
  readonly probe: ProbePort;
  readonly family?: Family;
  readonly modelled: 'allow' | 'deny' | 'unresolvable';
  readonly observed?: Outcome;
}

/** A flow whose families were decided differently (by the model, or on the cluster). */
export interface FamilyNote {
  readonly from: string;
  readonly to: string;
  readonly probe: ProbePort;
  /** Per family, in order: the model's verdict and, on a live run, the observed outcome. */
  readonly families: readonly {
    readonly family: Family;
    readonly modelled: FamilyCell['modelled'];
    readonly observed?: Outcome;
  }[];
  /** `families disagree: IPv4 allow, IPv6 deny` (observed: `observed IPv4 allowed, ...`). */
  readonly note: string;
}

/**
 * The flows of a step whose families disagree with each other: the model's verdicts differ, or
 * the observed outcomes decide differently (allowed against refused or dropped). Outcomes that
 * decide nothing (probe-error, skipped) are no disagreement. In cell order.
 */
export function familyNotes(cells: readonly FamilyCell[]): FamilyNote[] {
  const flows = new Map<string, FamilyCell[]>();
  for (const cell of cells) {
    if (cell.family === undefined) continue;
    const key = `${cell.from}\u0000${cell.to}\u0000${String(cell.probe.port)}/${cell.probe.protocol}`;
    const list = flows.get(key);
    if (list) list.push(cell);
    else flows.set(key, [cell]);
  }
  const notes: FamilyNote[] = [];
  for (const list of flows.values()) {
    const first = list[0];
    if (first === undefined || list.length < 2) continue;
    const sorted = [...list].sort((a, b) => (a.family ?? 0) - (b.family ?? 0));
    const modelled = new Set(sorted.map((c) => c.modelled));
    const observed = new Set(
      sorted.map((c) => (c.observed === undefined ? undefined : outcomeVerdict(c.observed))),
    );
    const modelSplit = modelled.size > 1;
    const observedSplit =
      !observed.has(undefined) && observed.size > 1 && sorted.every((c) => c.observed);
    if (!modelSplit && !observedSplit) continue;
    const parts: string[] = [];
    if (modelSplit || !observedSplit)
      parts.push(sorted.map((c) => `${familyName(c.family ?? 4)} ${c.modelled}`).join(', '));
    if (observedSplit)
      parts.push(
        `observed ${sorted.map((c) => `${familyName(c.family ?? 4)} ${c.observed ?? ''}`).join(', ')}`,
      );
    notes.push({
      from: first.from,
      to: first.to,
      probe: first.probe,
      families: sorted.map((c) => ({
        family: c.family ?? 4,
        modelled: c.modelled,
        ...(c.observed === undefined ? {} : { observed: c.observed }),
      })),
      note: `families disagree: ${parts.join('; ')}`,
    });
  }
  return notes;
}
