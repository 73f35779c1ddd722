// Request schemas for the JSON endpoints. Field names follow the Vectorize v2
// REST API; unknown fields are ignored, as the real service does.
import { z } from 'zod';
import { idSchema } from '../../common/ids.ts';
import { LIMITS } from '../limits.ts';

export const METRICS = ['cosine', 'euclidean', 'dot-product'] as const;

/** Presets upstream accepts, and the configuration each stands for. */
export const PRESETS = {
  '@cf/baai/bge-small-en-v1.5': { dimensions: 384, metric: 'cosine' },
  '@cf/baai/bge-base-en-v1.5': { dimensions: 768, metric: 'cosine' },
  '@cf/baai/bge-large-en-v1.5': { dimensions: 1024, metric: 'cosine' },
  'openai/text-embedding-ada-002': { dimensions: 1536, metric: 'cosine' },
  'cohere/embed-multilingual-v2.0': { dimensions: 768, metric: 'cosine' },
} as const;

const presetNames = Object.keys(PRESETS) as [keyof typeof PRESETS, ...(keyof typeof PRESETS)[]];

export const createIndexBody = z.object({
  name: z.string(),
  description: z.string().max(LIMITS.maxDescriptionBytes).optional(),
  config: z.union([
    z.object({
      dimensions: z.number().int().min(1).max(LIMITS.maxDimensions),
      metric: z.enum(METRICS),
    }),
    z.object({ preset: z.enum(presetNames) }),
  ]),
});

export const queryBody = z.object({
  vector: z.array(z.number()).optional(),
  /** queryById, as wrangler sends it. */
  vectorId: idSchema.optional(),
  topK: z.number().int().min(1).optional(),
  returnValues: z.boolean().optional(),
  // Booleans are rejected as upstream v2 does; the Worker binding maps true → "all" itself.
  returnMetadata: z.enum(['none', 'indexed', 'all']).optional(),
  filter: z.unknown().optional(),
  namespace: z.string().nullish(),
});

export const idsBody = z.object({
  ids: z.array(idSchema).min(1).max(LIMITS.maxIdsPerRequest),
});

const propertyName = z
  .string()
  .min(1)
  .max(LIMITS.maxFilterKeyChars)
  .refine((s) => !s.includes('"') && !s.startsWith('$'), 'must not contain \'"\' or start with \'$\'');

export const metadataIndexCreateBody = z.object({
  propertyName,
  indexType: z.enum(['string', 'number', 'boolean']),
});

export const metadataIndexDeleteBody = z.object({ propertyName });

export const listVectorsQuery = z.object({
  count: z.coerce.number().int().min(1).max(LIMITS.maxListCount).optional(),
  cursor: z.string().min(1).optional(),
});

export const unparsableBehavior = z.enum(['error', 'discard']).optional();
