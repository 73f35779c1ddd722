// The worker's structured log: one JSON object per line, which Workers Logs
// (wrangler.toml [observability]) indexes field by field, and `npm start`
// shows as "<msg> <other fields>". LOG_LEVEL (worker/config.ts) sets the least
// severe level written.
export type LogLevel = 'info' | 'warn' | 'error';
export type LogThreshold = LogLevel | 'off';

const RANK: Record<LogThreshold, number> = { info: 0, warn: 1, error: 2, off: 3 };
const sinks = { info: console.log, warn: console.warn, error: console.error } as const;

export function logJson(threshold: LogThreshold, level: LogLevel, msg: string, fields: Record<string, unknown> = {}): void {
  if (RANK[level] >= RANK[threshold]) sinks[level](JSON.stringify({ level, time: Date.now(), msg, ...fields }));
}
