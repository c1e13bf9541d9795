import type { ScenarioResult } from '../engine/results.js';

/** What a command hands back to main, which alone turns it into an exit code. */
export type CommandResult =
  /** The command wrote its output; nothing can disagree (model, explain, init). */
  | { readonly kind: 'done' }
  | { readonly kind: 'check'; readonly results: readonly ScenarioResult[] }
  /**
   * `report`: a saved result re-rendered. `outputs` counts stdout (when used) and the requested
   * reports; when every one of them failed, nothing carried the result (docs/REPORTS.md).
   */
  | {
      readonly kind: 'report';
      readonly passed: boolean;
      readonly outputs: number;
      readonly failedOutputs: number;
    }
  /** A live run: the same results, with observed outcomes. */
  | { readonly kind: 'run'; readonly results: readonly ScenarioResult[] }
  /** `fuzz`: cells that differed from the spec, and flaky ones. */
  | { readonly kind: 'fuzz'; readonly differing: number; readonly flaky: number }
  /** `diff`: whether a cell opened or closed, or an endpoint appeared or disappeared. */
  | { readonly kind: 'diff'; readonly changed: boolean };
