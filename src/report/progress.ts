/**
 * Progress of a live run, on stderr: on a terminal one line rewritten in place (scenario, step,
 * probes done, elapsed), otherwise (CI, a pipe) plain lines. Never on stdout, which carries only
 * the result.
 */
import type { RunEvent } from '../engine/run.js';

export interface ProgressSink {
  line(text: string): void;
  /** A live line (no newline); absent when the output is not a terminal. */
  live?: (text: string) => void;
}

export function progressReporter(
  sink: ProgressSink,
  now: () => number = () => performance.now(),
): { onEvent: (event: RunEvent) => void; message: (text: string) => void; end: () => void } {
  const start = now();
  let step = '';
  let probes = 0;
  let shown = false;
  const elapsed = () => `${((now() - start) / 1000).toFixed(1)} s`;
  const clear = () => {
    if (shown && sink.live) sink.live('\r\x1b[2K');
    shown = false;
  };
  const message = (text: string) => {
    clear();
    sink.line(text);
  };
  const onEvent = (event: RunEvent): void => {
    switch (event.kind) {
      case 'phase':
        message(`${event.scenario}: ${event.message}`);
        return;
      case 'step':
        step = `${event.scenario}: step ${String(event.index + 1)}/${String(event.total)} ${event.step}`;
        probes = 0;
        if (sink.live === undefined) sink.line(step);
        return;
      case 'probes':
        probes += event.done;
        if (sink.live !== undefined) {
          sink.live(`\r\x1b[2K${step}: ${String(probes)} probes (${event.what}), ${elapsed()}`);
          shown = true;
        }
        return;
      case 'cleanup':
        message(
          event.kept === undefined
            ? `${event.scenario}: removing ${event.namespaces.join(', ') || 'nothing'}`
            : `${event.scenario}: kept ${event.namespaces.join(', ')}; remove with: ${event.kept}`,
        );
        return;
    }
  };
  return { onEvent, message, end: clear };
}
