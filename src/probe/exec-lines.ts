/**
 * The output of a long-lived exec (a probe session, a hold client) as it arrives: stdout cut into
 * whole lines for the reader, the tail of stderr kept for messages.
 */
export class ExecLines {
  private buffer = '';
  /** The last 2,000 characters of stderr. */
  stderr = '';

  constructor(private readonly onLine: (line: string) => void) {}

  output(which: 'stdout' | 'stderr', text: string): void {
    if (which === 'stderr') {
      this.stderr = (this.stderr + text).slice(-2000);
      return;
    }
    this.buffer += text;
    let newline = this.buffer.indexOf('\n');
    while (newline >= 0) {
      const line = this.buffer.slice(0, newline);
      this.buffer = this.buffer.slice(newline + 1);
      this.onLine(line);
      newline = this.buffer.indexOf('\n');
    }
  }
}
