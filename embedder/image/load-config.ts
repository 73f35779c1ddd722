import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { PreprocessConfigError } from './errors.ts';
import { parsePreprocessConfig } from './config.ts';
import type { PreprocessConfig } from './config.ts';

/** Where each published layout keeps its preprocessing config, relative to the model directory. */
const CANDIDATES = ['preprocessor_config.json', path.join('visual', 'preprocess_cfg.json'), 'preprocess_cfg.json'];

async function isFile(file: string): Promise<boolean> {
  return stat(file).then(
    (s) => s.isFile(),
    () => false,
  );
}

async function findConfigFile(modelDir: string): Promise<string> {
  for (const candidate of CANDIDATES) {
    const file = path.join(modelDir, candidate);
    if (await isFile(file)) return file;
  }
  throw new PreprocessConfigError(`${modelDir}: no preprocessing config (looked for ${CANDIDATES.join(', ')})`);
}

/**
 * Reads the preprocessing config of a model: give the model directory (Hugging Face/Xenova or
 * OpenCLIP/Immich layout) or the config file itself.
 */
export async function loadPreprocessConfig(modelDirOrFile: string): Promise<PreprocessConfig> {
  const info = await stat(modelDirOrFile).catch((error: unknown) => {
    throw new PreprocessConfigError(`${modelDirOrFile}: ${(error as Error).message}`, { cause: error });
  });
  const file = info.isDirectory() ? await findConfigFile(modelDirOrFile) : modelDirOrFile;
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new PreprocessConfigError(`${file}: ${(error as Error).message}`, { cause: error });
  }
  return parsePreprocessConfig(json, file);
}
