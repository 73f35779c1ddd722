// Embedder settings from the environment, each with a bound.
import { z } from 'zod';
import { DEFAULT_REQUEST_TIMEOUTS, type RequestTimeouts } from '../common/http/node-server.ts';
import { parseDevice } from './runtime/execution-provider.ts';

const int = (fallback: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(fallback);
const MiB = 1024 * 1024;

/** Every setting; descriptions are the comments above each (docs/configuration.md is generated from them). */
export const schema = z
  .object({
    /** The address to listen on; 0.0.0.0 (or ::) to serve other machines, behind TLS. */
    EMBEDDER_HOST: z.string().min(1).default('127.0.0.1'),
    /** The port to listen on (0: a free one). */
    EMBEDDER_PORT: int(8790, 0, 65535),
    /** A model directory (ONNX files, tokenizer and preprocessor settings; npm run model:fetch writes one). */
    MODEL_DIR: z.string().min(1).optional(),
    /** Instead of MODEL_DIR: a Hugging Face repository id, downloaded into models/ on first start (HF_TOKEN, HF_ENDPOINT). */
    MODEL: z.string().min(1).optional(),
    /** Which of the model's ONNX files to run (fp32, fp16 or quantized: onnx/*_fp16.onnx, onnx/*_quantized.onnx). */
    MODEL_VARIANT: z.enum(['fp32', 'fp16', 'quantized']).default('fp32'),
    /** auto (default): CUDA when its execution provider loads, else the CPU; cuda: refuse to start without it; cpu. */
    EMBEDDER_DEVICE: z.string().optional(),
    /** ONNX Runtime intra-op threads (0: all cores). */
    EMBEDDER_THREADS: int(0, 0, 1024),
    /** When set, every /v1 route needs `Authorization: Bearer <it>` (the worker's EMBEDDER_TOKEN). @secret */
    EMBEDDER_TOKEN: z.string().min(1).optional(),
    /** A batch runs once it holds this many texts… */
    EMBEDDER_TEXT_BATCH: int(64, 1, 4096),
    /** …or this many images… */
    EMBEDDER_IMAGE_BATCH: int(16, 1, 1024),
    /** …or when its first item has waited this long. */
    EMBEDDER_BATCH_WAIT_MS: int(5, 0, 10_000),
    /** Items waiting per queue (texts, images); a full queue answers 429 with Retry-After. */
    EMBEDDER_MAX_QUEUE: int(1024, 1, 1_000_000),
    /** The longest an item may wait and run before its request fails. */
    EMBEDDER_TIMEOUT_MS: int(30_000, 100, 600_000),
    /** The largest request body. */
    EMBEDDER_MAX_BODY_BYTES: int(32 * MiB, 1024, 1024 * MiB),
    /** Items per request. */
    EMBEDDER_MAX_ITEMS: int(256, 1, 100_000),
    /** The largest image file. */
    EMBEDDER_MAX_IMAGE_BYTES: int(16 * MiB, 1024, 1024 * MiB),
    /** The largest image, in pixels as its header declares them, checked before decoding. */
    EMBEDDER_MAX_PIXELS: int(50_000_000, 1, 1_000_000_000),
    /** The longest text, in characters. */
    EMBEDDER_MAX_TEXT_CHARS: int(4096, 1, 1_000_000),
    /** Time to fetch an image URL, redirects included. */
    EMBEDDER_URL_TIMEOUT_MS: int(10_000, 100, 120_000),
    /** 1: image URLs may point at loopback and private addresses (a trusted network only). */
    EMBEDDER_ALLOW_PRIVATE_URLS: z.enum(['0', '1', 'true', 'false']).default('0'),
    /** exact: Pillow's pixels bit for bit; fast: large JPEGs shrink while decoding (cosine 0.9999; never mix modes in one index). */
    EMBEDDER_DECODE: z.enum(['exact', 'fast']).default('exact'),
    /** The decompression-ratio rule: pixels an image over 4 Mpx may declare per byte of its file. */
    EMBEDDER_MAX_PIXELS_PER_BYTE: int(1000, 1, 1_000_000_000),
    /** Decoded pixel memory (3 bytes a pixel) all requests together may hold, and how long a decode waits for room. */
    EMBEDDER_DECODE_BUDGET_BYTES: int(512 * MiB, 16 * MiB, 64 * 1024 * MiB),
    EMBEDDER_DECODE_WAIT_MS: int(2000, 0, 60_000),
    /** Time a client has to send a request's headers, and the whole request. */
    EMBEDDER_HEADERS_TIMEOUT_MS: int(DEFAULT_REQUEST_TIMEOUTS.headersMs, 100, 600_000),
    EMBEDDER_REQUEST_TIMEOUT_MS: int(DEFAULT_REQUEST_TIMEOUTS.requestMs, 100, 3_600_000),
    /** When set, GET /metrics needs `Authorization: Bearer <it>`; unset, /metrics is public like /healthz. @secret */
    EMBEDDER_METRICS_TOKEN: z.string().min(1).optional(),
    // Read where they are used (main.ts, model-fetch/, http/test-faults.ts); listed here so that one schema names every setting.
    /** The log level (pino: trace, debug, info, warn, error, fatal, silent); debug logs a line per request. */
    EMBEDDER_LOG_LEVEL: z.string().optional(),
    /** A Hugging Face token for MODEL downloads of gated or private repositories. @secret */
    HF_TOKEN: z.string().optional(),
    /** The Hugging Face hub's address for MODEL downloads (default https://huggingface.co): a mirror. */
    HF_ENDPOINT: z.string().optional(),
    /** Test only (the chaos suite): with NODE_ENV=test and 1, PUT /v1/test/faults exists; set anywhere else, the embedder refuses to start. */
    EMBEDDER_TEST_FAULTS: z.string().optional(),
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
