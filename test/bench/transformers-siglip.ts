// The transformers.js side of the SigLIP benchmark rows (siglip.ts), in a process of its own:
//   node --import tsx test/bench/transformers-siglip.ts <model dir> <workload.json>
// prints one JSON line, the Throughput. The workload file names the photos (paths) and the texts.
import { readFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { AutoProcessor, AutoTokenizer, RawImage, SiglipTextModel, SiglipVisionModel, env } from '@huggingface/transformers';
import { measureThroughput, type Workload } from './siglip-throughput.ts';

const [modelDir, workloadFile] = process.argv.slice(2) as [string, string];
const workload = JSON.parse(readFileSync(workloadFile, 'utf8')) as Omit<Workload, 'photos'> & { photos: string[] };
env.allowRemoteModels = false;
env.localModelPath = `${dirname(modelDir)}/`;
const name = basename(modelDir);
const vision = await SiglipVisionModel.from_pretrained(name, { dtype: 'fp32', device: 'cpu' });
const text = await SiglipTextModel.from_pretrained(name, { dtype: 'fp32', device: 'cpu' });
const processor = await AutoProcessor.from_pretrained(name);
const tokenizer = await AutoTokenizer.from_pretrained(name);

const embedImages = async (photos: Uint8Array[]) => vision(await processor(await Promise.all(photos.map((p) => RawImage.fromBlob(new Blob([p]))))));
// SigLIP reads every position: padded to the full context, as loadClip does.
const embedTexts = async (texts: string[]) => text(tokenizer(texts, { padding: 'max_length', truncation: true }));
const photos = workload.photos.map((file) => new Uint8Array(readFileSync(file)));
const throughput = await measureThroughput(embedImages, embedTexts, { ...workload, photos });
// The first text's and photo's embeddings, for the caller to check both sides compute the same model.
const [imageOutput, textOutput] = await Promise.all([embedImages(photos.slice(0, 1)), embedTexts(workload.texts.slice(0, 1))]);
const pooled = (output: { pooler_output: { data: Float32Array } }) => Array.from(output.pooler_output.data);
console.log(JSON.stringify({ ...throughput, image: pooled(imageOutput), text: pooled(textOutput) }));
