// Chooses where ONNX Runtime runs: CUDA on a GPU node, the CPU elsewhere.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { InferenceSession } from 'onnxruntime-node';
import { SessionThread, type ModelSession } from './session-thread.ts';

export type DevicePreference = 'auto' | 'cuda' | 'cpu';
export type Provider = 'cuda' | 'cpu';

export interface RuntimeOptions {
  device?: DevicePreference;
  /** Threads inside one operator (ORT intra-op pool); default: ORT's choice (all cores). */
  intraOpThreads?: number;
  /** Threads across independent operators; default 1 (CLIP graphs are sequential). */
  interOpThreads?: number;
}

export class CudaUnavailableError extends Error {
  constructor(cause: unknown) {
    super(
      'EMBEDDER_DEVICE=cuda but the CUDA execution provider could not be loaded ' +
        `(${String((cause as Error)?.message ?? cause).split('\n')[0]}). ` +
        'Install onnxruntime-node with `npm install --onnxruntime-node-install=cuda12` on a node with CUDA 12 and cuDNN 9, ' +
        'or set EMBEDDER_DEVICE=auto to fall back to the CPU.',
      { cause },
    );
    this.name = 'CudaUnavailableError';
  }
}

function sessionOptions(provider: Provider, options: RuntimeOptions): InferenceSession.SessionOptions {
  return {
    executionProviders: [provider],
    graphOptimizationLevel: 'all',
    interOpNumThreads: options.interOpThreads ?? 1,
    ...(options.intraOpThreads ? { intraOpNumThreads: options.intraOpThreads } : {}),
  };
}

/**
 * Whether onnxruntime-node's CUDA provider library was installed (it is not
 * bundled; `--onnxruntime-node-install=cuda12` fetches it). Without it a CUDA
 * session cannot open, so `auto` need not try (and ORT need not log the failure).
 */
export function cudaProviderInstalled(): boolean {
  const binding = createRequire(import.meta.url).resolve('onnxruntime-node');
  const binDir = join(dirname(binding), '..', 'bin', 'napi-v6', process.platform, process.arch);
  return existsSync(join(binDir, process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so'));
}

/** Opens a model already in memory (a rewritten graph, handed over) on a provider that is known to work. */
export function openSessionFromBytes(model: Uint8Array, provider: Provider, options: RuntimeOptions): Promise<ModelSession> {
  return SessionThread.open(model, sessionOptions(provider, options));
}

/**
 * Opens a model file on the preferred device. `auto` tries CUDA and falls
 * back to the CPU; `cuda` fails fast with a clear message when unavailable.
 */
export async function openSession(
  modelPath: string,
  options: RuntimeOptions,
): Promise<{ session: ModelSession; provider: Provider }> {
  const device = options.device ?? 'auto';
  if (device === 'cuda' || (device === 'auto' && cudaProviderInstalled())) {
    try {
      return { session: await SessionThread.open(modelPath, sessionOptions('cuda', options)), provider: 'cuda' };
    } catch (error) {
      // auto: the library is there but no usable GPU/driver; the CPU it is.
      if (device === 'cuda') throw new CudaUnavailableError(error);
    }
  }
  return { session: await SessionThread.open(modelPath, sessionOptions('cpu', options)), provider: 'cpu' };
}

export function parseDevice(value: string | undefined): DevicePreference {
  const device = (value ?? 'auto').toLowerCase();
  if (device === 'auto' || device === 'cuda' || device === 'cpu') return device;
  throw new Error(`EMBEDDER_DEVICE must be auto, cuda or cpu (got ${value})`);
}
