/** The command's view of the terminal; tests replace it. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Whether to colour output, given the --color/--no-color flag. */
  color(flag: boolean | undefined): boolean;
  width(): number;
}

export const processIo: Io = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  color: (flag) => flag !== false && process.stdout.isTTY && !process.env.NO_COLOR,
  width: () => process.stdout.columns || 120,
};
