/** The command's view of the terminal; tests replace it. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Writes a chunk of a large output as is, resolving once the stream can take more. */
  write(chunk: string): Promise<void>;
  /** Whether to colour output, given the --color/--no-color flag. */
  color(flag: boolean | undefined): boolean;
  width(): number;
  /** Whether stderr is a terminal (progress as one live line) — absent: no. */
  errIsTTY?(): boolean;
  /** Write to stderr as is (no newline added), for a live progress line. */
  errRaw?(text: string): void;
}

/**
 * Whether standard output's reader has gone (EPIPE: `polygraph model | head -1`): what is left to
 * print is dropped and the command ends as it would have, with its own exit code, rather than
 * as an internal error. A run still cleans up the cluster.
 */
let stdoutGone = false;
let watching = false;

function isEpipe(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'EPIPE';
}

function watchStdout(): void {
  if (watching) return;
  watching = true;
  process.stdout.on('error', (error) => {
    if (!isEpipe(error)) throw error;
    stdoutGone = true;
  });
}

export const processIo: Io = {
  out: (text) => {
    watchStdout();
    if (!stdoutGone) process.stdout.write(`${text}\n`);
  },
  err: (text) => process.stderr.write(`${text}\n`),
  write: (chunk) =>
    new Promise((resolve, reject) => {
      watchStdout();
      if (stdoutGone) {
        resolve();
        return;
      }
      const onError = (error: Error): void => {
        process.stdout.off('drain', done);
        if (isEpipe(error)) resolve();
        else reject(error);
      };
      const done = (): void => {
        process.stdout.off('error', onError);
        resolve();
      };
      process.stdout.once('error', onError);
      if (process.stdout.write(chunk)) done();
      else process.stdout.once('drain', done);
    }),
  color: (flag) => flag !== false && process.stdout.isTTY && !process.env.NO_COLOR,
  width: () => process.stdout.columns || 120,
  errIsTTY: () => process.stderr.isTTY && process.env.CI === undefined,
  errRaw: (text) => process.stderr.write(text),
};

/** Writes pieces of a large output as is, gathered into writes of about 1 MB. */
export async function writeChunks(io: Io, chunks: Iterable<string>): Promise<void> {
  let parts: string[] = [];
  let size = 0;
  for (const chunk of chunks) {
    parts.push(chunk);
    size += chunk.length;
    if (size >= 1 << 20) {
      await io.write(parts.join(''));
      parts = [];
      size = 0;
    }
  }
  if (parts.length > 0) await io.write(parts.join(''));
}

/** Each line followed by a newline, for writeChunks. */
export function* withNewlines(lines: Iterable<string>): Generator<string> {
  for (const line of lines) yield `${line}\n`;
}
