// Milliseconds since a performance.now() reading, to two decimals.

export const elapsedMs = (started: number) => Math.round((performance.now() - started) * 100) / 100;
