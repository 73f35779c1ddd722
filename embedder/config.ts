// Embedder settings from the environment, each with a bound.
import { z } from 'zod';
import { DEFAULT_REQUEST_TIMEOUTS, type RequestTimeouts } from '../common/http/node-server.ts';
import { parseDevice } from './runtime/execution-provider.ts';

const int = (fallback: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(fallback);
const MiB = 1024 * 1024;

const schema = z
  .object({
    EMBEDDER_HOST: z.string().min(1).default('127.0.0.1'),
    EMBEDDER_PORT: int(8790, 0, 65535),
    MODEL_DIR: z.string().min(1).optional(),
    MODEL: z.string().min(1).optional(),
    MODEL_VARIANT: z.enum(['fp32', 'fp16', 'quantized']).default('fp32'),
    EMBEDDER_DEVICE: z.string().optional(),
    EMBEDDER_THREADS: int(0, 0, 1024),
    EMBEDDER_TOKEN: z.string().min(1).optional(),
    EMBEDDER_TEXT_BATCH: int(64, 1, 4096),
    EMBEDDER_IMAGE_BATCH: int(16, 1, 1024),
    EMBEDDER_BATCH_WAIT_MS: int(5, 0, 10_000),
    EMBEDDER_MAX_QUEUE: int(1024, 1, 1_000_000),
    EMBEDDER_TIMEOUT_MS: int(30_000, 100, 600_000),
    EMBEDDER_MAX_BODY_BYTES: int(32 * MiB, 1024, 1024 * MiB),
    EMBEDDER_MAX_ITEMS: int(256, 1, 100_000),
    EMBEDDER_MAX_IMAGE_BYTES: int(16 * MiB, 1024, 1024 * MiB),
    EMBEDDER_MAX_PIXELS: int(50_000_000, 1, 1_000_000_000),
    EMBEDDER_MAX_TEXT_CHARS: int(4096, 1, 1_000_000),
    EMBEDDER_URL_TIMEOUT_MS: int(10_000, 100, 120_000),
    EMBEDDER_ALLOW_PRIVATE_URLS: z.enum(['0', '1', 'true', 'false']).default('0'),
    EMBEDDER_DECODE: z.enum(['exact', 'fast']).default('exact'),
    /** The decompression-ratio rule: pixels an image over 4 Mpx may declare per byte of its file. */
    EMBEDDER_MAX_PIXELS_PER_BYTE: int(1000, 1, 1_000_000_000),
    /** Decoded pixel memory (3 bytes a pixel) all requests together may hold, and how long a decode waits for room. */
    EMBEDDER_DECODE_BUDGET_BYTES: int(512 * MiB, 16 * MiB, 64 * 1024 * MiB),
    EMBEDDER_DECODE_WAIT_MS: int(2000, 0, 60_000),
    /** Time a client has to send a request's headers, and the whole request. */
    EMBEDDER_HEADERS_TIMEOUT_MS: int(DEFAULT_REQUEST_TIMEOUTS.headersMs, 100, 600_000),
    EMBEDDER_REQUEST_TIMEOUT_MS: int(DEFAULT_REQUEST_TIMEOUTS.requestMs, 100, 3_600_000),
    /** When set, GET /metrics needs `Authorization: Bearer <it>`; unset, /metrics is public like /healthz. */
    EMBEDDER_METRICS_TOKEN: z.string().min(1).optional(),
  })
  .refine((e) => e.EMBEDDER_HEADERS_TIMEOUT_MS <= e.EMBEDDER_REQUEST_TIMEOUT_MS, {
    path: ['EMBEDDER_HEADERS_TIMEOUT_MS'],
    message: 'must not exceed EMBEDDER_REQUEST_TIMEOUT_MS',
  });

export interface EmbedderLimits {
  maxBodyBytes: number;
  maxItems: number;
  maxImageBytes: number;
  maxPixels: number;
  maxTextChars: number;
  urlTimeoutMs: number;
  allowPrivateUrls: boolean;
  maxPixelsPerByte: number;
  decodeBudgetBytes: number;
  decodeWaitMs: number;
}

export interface EmbedderConfig {
  host: string;
  port: number;
  modelDir?: string;
  model?: string;
  variant: 'fp32' | 'fp16' | 'quantized';
  device: ReturnType<typeof parseDevice>;
  threads: number;
  decode: 'exact' | 'fast';
  token?: string;
  metricsToken?: string;
  timeouts: RequestTimeouts;
  batching: { textBatch: number; imageBatch: number; waitMs: number; maxQueue: number; timeoutMs: number };
  limits: EmbedderLimits;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): EmbedderConfig {
  const parsed = schema.safeParse(env);
  if (!parsed.success)
    throw new Error(`invalid embedder settings: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const e = parsed.data;
  return {
    host: e.EMBEDDER_HOST,
    port: e.EMBEDDER_PORT,
    ...(e.MODEL_DIR ? { modelDir: e.MODEL_DIR } : {}),
    ...(e.MODEL ? { model: e.MODEL } : {}),
    variant: e.MODEL_VARIANT,
    device: parseDevice(e.EMBEDDER_DEVICE),
    threads: e.EMBEDDER_THREADS,
    decode: e.EMBEDDER_DECODE,
    ...(e.EMBEDDER_TOKEN ? { token: e.EMBEDDER_TOKEN } : {}),
    ...(e.EMBEDDER_METRICS_TOKEN ? { metricsToken: e.EMBEDDER_METRICS_TOKEN } : {}),
    timeouts: { headersMs: e.EMBEDDER_HEADERS_TIMEOUT_MS, requestMs: e.EMBEDDER_REQUEST_TIMEOUT_MS },
    batching: {
      textBatch: e.EMBEDDER_TEXT_BATCH,
      imageBatch: e.EMBEDDER_IMAGE_BATCH,
      waitMs: e.EMBEDDER_BATCH_WAIT_MS,
      maxQueue: e.EMBEDDER_MAX_QUEUE,
      timeoutMs: e.EMBEDDER_TIMEOUT_MS,
    },
    limits: {
      maxBodyBytes: e.EMBEDDER_MAX_BODY_BYTES,
      maxItems: e.EMBEDDER_MAX_ITEMS,
      maxImageBytes: e.EMBEDDER_MAX_IMAGE_BYTES,
      maxPixels: e.EMBEDDER_MAX_PIXELS,
      maxTextChars: e.EMBEDDER_MAX_TEXT_CHARS,
      urlTimeoutMs: e.EMBEDDER_URL_TIMEOUT_MS,
      allowPrivateUrls: e.EMBEDDER_ALLOW_PRIVATE_URLS === '1' || e.EMBEDDER_ALLOW_PRIVATE_URLS === 'true',
      maxPixelsPerByte: e.EMBEDDER_MAX_PIXELS_PER_BYTE,
      decodeBudgetBytes: e.EMBEDDER_DECODE_BUDGET_BYTES,
      decodeWaitMs: e.EMBEDDER_DECODE_WAIT_MS,
    },
  };
}
