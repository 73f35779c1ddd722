import type { EmbedderLimits } from '../config.ts';
import type { EmbeddingService } from '../service/embedding-service.ts';
import type { Metrics } from './metrics.ts';

/** What every route handler can reach. */
export interface EmbedderDeps {
  service: EmbeddingService;
  limits: EmbedderLimits;
  metrics: Metrics;
  token?: string;
}
