// One Workers Analytics Engine data point per request, when the optional
// ANALYTICS binding (an [[analytics_engine_datasets]] dataset) is bound;
// nothing otherwise. The columns, for SQL over the dataset:
//   index1  route (the sampling key)
//   blob1   request id      blob2  method        blob3  route
//   blob4   cache: hit | miss | stale | ''        blob5  error code or ''
//   blob6   embedder circuits in upstream order, e.g. "closed" or "closed,open"
//           (each closed | half-open | open)
//   double1 HTTP status     double2 latency in ms
//   double3 embedder call failures   double4 index call failures
//   double5 embedder upstreams whose circuit is open
import type { AnalyticsEngineDataset } from '@cloudflare/workers-types/index.ts';
import type { BreakerState } from '../embedding/circuit-breaker.ts';

export interface RequestRecord {
  requestId: string;
  method: string;
  route: string;
  status: number;
  latencyMs: number;
  cache: string;
  error: string;
  circuits: BreakerState[];
  openCircuits: number;
  embedderErrors: number;
  indexErrors: number;
}

/** The ANALYTICS binding if it is one (anything without writeDataPoint counts as unbound). */
export function analyticsDataset(env: Readonly<Record<string, unknown>>): AnalyticsEngineDataset | undefined {
  const binding = env.ANALYTICS as Partial<AnalyticsEngineDataset> | undefined;
  return typeof binding?.writeDataPoint === 'function' ? (binding as AnalyticsEngineDataset) : undefined;
}

export function writeRequestPoint(dataset: AnalyticsEngineDataset | undefined, r: RequestRecord): void {
  dataset?.writeDataPoint({
    indexes: [r.route],
    blobs: [r.requestId, r.method, r.route, r.cache, r.error, r.circuits.join(',')],
    doubles: [r.status, r.latencyMs, r.embedderErrors, r.indexErrors, r.openCircuits],
  });
}
