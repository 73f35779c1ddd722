// Prometheus metrics of the index service, in a registry of its own (like the
// embedder's): requests and latency by route, the time the search itself took
// (the query route's Server-Timing), and per index the vectors, the
// write-ahead log's size, the last snapshot's age and duration, and the search
// knobs that set how many candidates a query looks at (recall against speed).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Catalog } from './storage/catalog.ts';

const SECONDS_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createMetrics(catalog: Catalog) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'index_' }); // index_process_resident_memory_bytes, index_nodejs_heap_size_used_bytes, ...
  /** Each open index, for the gauges read at scrape time. */
  const indexes = () => catalog.list().map((config) => ({ name: config.name, durable: catalog.get(config.name) }));
  const perIndex = (name: string, help: string, value: (durable: ReturnType<Catalog['get']>) => number | null) =>
    new Gauge({
      name,
      help,
      labelNames: ['index'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const { name: index, durable } of indexes()) {
          const v = value(durable);
          if (v !== null) this.set({ index }, v);
        }
      },
    });

  perIndex('index_vectors', 'Vectors stored, by index', (d) => d.index.vectorCount);
  perIndex('index_wal_bytes', 'Bytes in the write-ahead log since the last snapshot, by index', (d) => d.walBytes);
  perIndex('index_snapshot_age_seconds', 'Seconds since the last snapshot (or since the index was opened), by index', (d) => (Date.now() - d.lastSnapshotAt) / 1000);
  perIndex('index_snapshot_duration_seconds', 'How long the last snapshot took, by index (absent before the first)', (d) =>
    d.lastSnapshotMs === null ? null : d.lastSnapshotMs / 1000,
  );
  new Gauge({
    name: 'index_search_tuning',
    help: 'Search knobs, by index: exactBelow and subsetExactMax (exact scans up to this many vectors), extraCandidates (HNSW candidates beyond topK, re-scored exactly), hnsw_* (graph parameters)',
    labelNames: ['index', 'knob'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const { name: index, durable } of indexes()) {
        const { exactBelow, subsetExactMax, extraCandidates, hnsw } = durable.index.tuning;
        const knobs = { exactBelow, subsetExactMax, extraCandidates, hnsw_connectivity: hnsw.connectivity, hnsw_expansionAdd: hnsw.expansionAdd, hnsw_expansionSearch: hnsw.expansionSearch };
        for (const [knob, value] of Object.entries(knobs)) this.set({ index, knob }, value);
      }
    },
  });

  return {
    registry,
    requests: new Counter({
      name: 'index_requests_total',
      help: 'HTTP requests by route and status',
      labelNames: ['route', 'status'] as const,
      registers: [registry],
    }),
    latency: new Histogram({
      name: 'index_request_seconds',
      help: 'HTTP request latency by route',
      labelNames: ['route'] as const,
      buckets: SECONDS_BUCKETS,
      registers: [registry],
    }),
    search: new Histogram({
      name: 'index_query_search_seconds',
      help: 'Time a query spent searching (graph and exact re-scoring), without parsing and serialising',
      buckets: SECONDS_BUCKETS,
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
