/** Where in an input file something stands: 1-based line and column. */
export interface SourceLocation {
  readonly file: string;
  readonly line: number;
  readonly col: number;
}

/**
 * One problem in the user's input. `path` is the field path inside the document, such as
 * `spec.ingress[0].from[1].ipBlock.except[0]`; `location` is filled in by the loader that knows
 * which file and line the field came from.
 */
export interface Issue {
  readonly message: string;
  readonly path: string;
  readonly location?: SourceLocation;
  /** The object the issue is about, such as `NetworkPolicy x/deny-all`. */
  readonly object?: string;
}

export function formatIssue(issue: Issue): string {
  const where = issue.location
    ? `${issue.location.file}:${issue.location.line}:${issue.location.col}`
    : '<input>';
  const about = issue.object ? `${issue.object}: ` : '';
  const path = issue.path ? `${issue.path}: ` : '';
  return `${where}: ${about}${path}${issue.message}`;
}
