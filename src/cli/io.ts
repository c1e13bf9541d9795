/** The command's view of the terminal; tests replace it. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Whether to colour output, given the --color/--no-color flag. */
  color(flag: boolean | undefined): boolean;
  width(): number;
  /** Whether stderr is a terminal (progress as one live line) — absent: no. */
  errIsTTY?(): boolean;
  /** Write to stderr as is (no newline added), for a live progress line. */
  errRaw?(text: string): void;
}

export const processIo: Io = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  color: (flag) => flag !== false && process.stdout.isTTY && !process.env.NO_COLOR,
  width: () => process.stdout.columns || 120,
  errIsTTY: () => process.stderr.isTTY && process.env.CI === undefined,
  errRaw: (text) => process.stderr.write(text),
};
