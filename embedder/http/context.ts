import type { EmbedderLimits } from '../config.ts';
import type { ModelSet } from '../service/model-set.ts';
import type { ErrorLog } from './errors.ts';
import type { Metrics } from './metrics.ts';

/** What every route handler can reach. */
export interface EmbedderDeps {
  /** The models served; a route picks one by the request's `model` (the first when none is named). */
  models: ModelSet;
  limits: EmbedderLimits;
  metrics: Metrics;
  token?: string;
  /** Protects GET /metrics when set (EMBEDDER_METRICS_TOKEN). */
  metricsToken?: string;
  /** Where failures are logged (default: the console). */
  log?: ErrorLog;
  /** One line per request with the caller's x-request-id: debug, or warn for a 5xx (EMBEDDER_LOG_LEVEL). */
  requestLog?: RequestLog;
}

export interface RequestLog {
  debug(details: object, message: string): void;
  warn(details: object, message: string): void;
}
