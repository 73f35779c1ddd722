// Embedder settings from the environment, each with a bound.
import { z } from 'zod';
import { DEFAULT_REQUEST_TIMEOUTS, type RequestTimeouts } from '../common/http/node-server.ts';
import { readSettings } from '../common/settings.ts';
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
    MODEL_DIR: z.string().optional(),
    /** Instead of MODEL_DIR: a Hugging Face repository id, downloaded into models/ on first start (HF_TOKEN, HF_ENDPOINT). */
    MODEL: z.string().optional(),
    /** Several models in one process: `name=dir,name2=dir2`; the first is the default. */
    EMBEDDER_MODELS: z.string().optional(),
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
    /** How long a decode waits for room in the decode budget before 503 decode_budget_full. */
    EMBEDDER_DECODE_WAIT_MS: int(2000, 0, 60_000),
    /** Time a client has to send a request's headers… */
    EMBEDDER_HEADERS_TIMEOUT_MS: int(DEFAULT_REQUEST_TIMEOUTS.headersMs, 100, 600_000),
    /** …and the whole request. */
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

/**
 * Where a served model comes from: a directory (EMBEDDER_MODELS names it; MODEL_DIR's is
 * named after the directory, as loadClip names it) or a Hugging Face repository id (MODEL).
 */
export type ModelSource = { dir: string; name?: string } | { repo: string };

/** What a model may be called in EMBEDDER_MODELS: what clients send as `model`, and a metrics label. */
export const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** More models than this in one process would not fit any machine worth the name. */
export const MAX_MODELS = 16;

export interface EmbedderConfig {
  host: string;
  port: number;
  /** At least one; the first answers requests that name no model. */
  models: ModelSource[];
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

/** EMBEDDER_MODELS, `name=dir` pairs separated by commas, each name valid and used once. */
export function parseModelList(value: string): { name: string; dir: string }[] {
  const invalid = (why: string) => new Error(`invalid embedder settings: EMBEDDER_MODELS: ${why} (expected name=dir,name2=dir2)`);
  const entries = value.split(',').map((entry, i) => {
    const trimmed = entry.trim();
    const equals = trimmed.indexOf('=');
    if (!trimmed) throw invalid(`entry ${i + 1} is empty`);
    if (equals < 0) throw invalid(`"${trimmed}" is not name=dir`);
    const name = trimmed.slice(0, equals).trim();
    const dir = trimmed.slice(equals + 1).trim();
    if (!MODEL_NAME.test(name))
      throw invalid(`model name "${name}" must be 1 to 128 letters, digits, dots, dashes and underscores, starting with a letter or digit`);
    if (!dir) throw invalid(`model "${name}" has no directory`);
    return { name, dir };
  });
  if (entries.length > MAX_MODELS) throw invalid(`${entries.length} models; at most ${MAX_MODELS}`);
  const seen = new Set<string>();
  for (const { name } of entries) {
    if (seen.has(name)) throw invalid(`model name "${name}" is given twice`);
    seen.add(name);
  }
  return entries;
}

/** EMBEDDER_MODELS, or else MODEL_DIR, or else MODEL; EMBEDDER_MODELS beside either of the others is refused. */
function modelSources(e: { MODEL_DIR?: string | undefined; MODEL?: string | undefined; EMBEDDER_MODELS?: string | undefined }): ModelSource[] {
  if (e.EMBEDDER_MODELS) {
    const also = (['MODEL_DIR', 'MODEL'] as const).filter((key) => e[key]);
    if (also.length)
      throw new Error(
        `invalid embedder settings: EMBEDDER_MODELS and ${also.join(' and ')} are both set; name every model in EMBEDDER_MODELS (name=dir,...) and unset ${also.join(' and ')}`,
      );
    return parseModelList(e.EMBEDDER_MODELS);
  }
  if (e.MODEL_DIR) return [{ dir: e.MODEL_DIR }];
  if (e.MODEL) return [{ repo: e.MODEL }];
  throw new Error('set MODEL_DIR to a model directory, MODEL to a Hugging Face repository id, or EMBEDDER_MODELS to name=dir pairs');
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): EmbedderConfig {
  // An empty value is refused, not taken as unset: EMBEDDER_TOKEN= must not turn authentication off.
  const e = readSettings(schema, env, { service: 'embedder', emptyIsUnset: false });
  return {
    host: e.EMBEDDER_HOST,
    port: e.EMBEDDER_PORT,
    models: modelSources(e),
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
