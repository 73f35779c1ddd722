// Messages for the person running the backfill, on stderr. The progress bar
// replaces the sink while it is drawn, so that lines do not tear it.

export interface Log {
  info(message: string): void;
  warn(message: string): void;
}

type Sink = (line: string) => void;

let sink: Sink = (line) => process.stderr.write(`${line}\n`);

export function setLogSink(next: Sink): Sink {
  const previous = sink;
  sink = next;
  return previous;
}

export const log: Log = {
  info: (message) => sink(message),
  warn: (message) => sink(`warning: ${message}`),
};
