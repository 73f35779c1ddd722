// transformers.js, the reference of npm run bench:embedder, in a process of its own: its nested
// onnxruntime-node (1.30) and the embedder's (1.31) cannot both be loaded in one process, in either
// order. The child loads a CLIP or SigLIP directory once and runs one request at a time, timing it
// itself; the parent waits meanwhile, so the two sides never run at once and rounds can alternate.
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { perSecond } from './throughput.ts';

export interface TransformersReference {
  /** Milliseconds of one preprocessing of an image file's bytes to the processor's pixel_values. */
  preprocessMs(image: Uint8Array): Promise<number>;
  /** The pixel_values of one image file. */
  preprocess(image: Uint8Array): Promise<Float32Array>;
  /** Images/s of `calls` calls embedding `photos`, `inFlight` at a time (perSecond). */
  imagesPerSecond(photos: Uint8Array[], calls: number, inFlight?: number): Promise<number>;
  /** Texts/s of `calls` calls embedding `texts`, one at a time. */
  textsPerSecond(texts: string[], calls: number): Promise<number>;
  /** One embedding per image file or text, as the model outputs it (not normalised). */
  embedImages(photos: Uint8Array[]): Promise<Float32Array[]>;
  embedTexts(texts: string[]): Promise<Float32Array[]>;
  close(): Promise<void>;
}

type Operations = Omit<TransformersReference, 'close'> & { ready(): Promise<void> };
type Request = { id: number; operation: keyof Operations; args: unknown[] };
type Reply = { id: number; value?: unknown; error?: string };

/** Starts transformers.js on a CLIP or SigLIP model directory (Hugging Face layout) in a child process. */
export async function startTransformers(modelDir: string): Promise<TransformersReference> {
  const child = fork(fileURLToPath(import.meta.url), [resolve(modelDir)], {
    execArgv: ['--import', 'tsx'],
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let failure: Error | undefined;
  const exited = new Promise<void>((done) =>
    child.once('exit', (code, signal) => {
      failure = new Error(`the transformers.js process for ${modelDir} exited (${signal ?? code})`);
      for (const { reject } of pending.values()) reject(failure);
      pending.clear();
      done();
    }),
  );
  child.on('message', ({ id, value, error }: Reply) => {
    const waiting = pending.get(id);
    pending.delete(id);
    if (error === undefined) waiting?.resolve(value);
    else waiting?.reject(new Error(`transformers.js: ${error}`));
  });
  let nextId = 0;
  const call =
    <Name extends keyof Operations>(operation: Name) =>
    (...args: Parameters<Operations[Name]>) =>
      new Promise<Awaited<ReturnType<Operations[Name]>>>((resolve, reject) => {
        if (failure) return reject(failure);
        const id = nextId++;
        pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
        child.send({ id, operation, args } satisfies Request);
      });
  await call('ready')();
  return {
    preprocessMs: call('preprocessMs'),
    preprocess: call('preprocess'),
    imagesPerSecond: call('imagesPerSecond'),
    textsPerSecond: call('textsPerSecond'),
    embedImages: call('embedImages'),
    embedTexts: call('embedTexts'),
    close: async () => {
      if (child.connected) child.disconnect();
      await exited;
    },
  };
}

/** The child: answers the parent's requests, once the model is loaded, until the parent disconnects. */
function serve(modelDir: string): void {
  // Listening from the start: a message that arrives with no listener is lost.
  const loaded = load(modelDir);
  loaded.catch(() => {}); // answered to each request instead
  process.on('message', async ({ id, operation, args }: Request) => {
    let reply: Reply;
    try {
      const operations = await loaded;
      reply = { id, value: await (operations[operation] as (...args: unknown[]) => Promise<unknown>)(...args) };
    } catch (error) {
      reply = { id, error: error instanceof Error ? (error.stack ?? error.message) : String(error) };
    }
    process.send!(reply);
  });
  process.on('disconnect', () => process.exit(0));
}

async function load(modelDir: string): Promise<Operations> {
  const transformers = await import('@huggingface/transformers');
  const { AutoProcessor, AutoTokenizer, RawImage, env } = transformers;
  env.allowRemoteModels = false;
  env.localModelPath = `${dirname(modelDir)}/`;
  const name = basename(modelDir);
  const family = (JSON.parse(readFileSync(join(modelDir, 'config.json'), 'utf8')) as { model_type?: string }).model_type;
  const towers =
    family === 'clip'
      ? { Vision: transformers.CLIPVisionModelWithProjection, Text: transformers.CLIPTextModelWithProjection, image: 'image_embeds', text: 'text_embeds', padding: true as const }
      : family === 'siglip'
        ? // SigLIP reads every position: padded to the full context, as loadClip does.
          { Vision: transformers.SiglipVisionModel, Text: transformers.SiglipTextModel, image: 'pooler_output', text: 'pooler_output', padding: 'max_length' as const }
        : undefined;
  if (!towers) throw new Error(`${modelDir}: model_type ${family} is neither clip nor siglip`);
  const [vision, text, processor, tokenizer] = await Promise.all([
    towers.Vision.from_pretrained(name, { dtype: 'fp32', device: 'cpu' }),
    towers.Text.from_pretrained(name, { dtype: 'fp32', device: 'cpu' }),
    AutoProcessor.from_pretrained(name),
    AutoTokenizer.from_pretrained(name),
  ]);

  type Output = { data: Float32Array; dims: number[] };
  const rows = ({ data, dims }: Output) => Array.from({ length: dims[0]! }, (_, i) => data.slice(i * dims[1]!, (i + 1) * dims[1]!));
  const decode = (photo: Uint8Array) => RawImage.fromBlob(new Blob([photo as Uint8Array<ArrayBuffer>]));
  const preprocess = async (photo: Uint8Array) => (await processor(await decode(photo))) as { pixel_values: Output };
  const runVision = async (photos: Uint8Array[]) => (await vision(await processor(await Promise.all(photos.map(decode))))) as Record<string, Output>;
  const runText = async (texts: string[]) => (await text(tokenizer(texts, { padding: towers.padding, truncation: true }))) as Record<string, Output>;
  return {
    ready: async () => {},
    preprocessMs: async (photo) => {
      const started = performance.now();
      await preprocess(photo);
      return performance.now() - started;
    },
    preprocess: async (photo) => (await preprocess(photo)).pixel_values.data,
    imagesPerSecond: (photos, calls, inFlight = 1) => perSecond(photos.length, calls, () => runVision(photos), inFlight),
    textsPerSecond: (texts, calls) => perSecond(texts.length, calls, () => runText(texts)),
    embedImages: async (photos) => rows((await runVision(photos))[towers.image]!),
    embedTexts: async (texts) => rows((await runText(texts))[towers.text]!),
  };
}

if (import.meta.main) serve(process.argv[2]!);
