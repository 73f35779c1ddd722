// Library entry point of `npm run model:fetch`.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { downloadFile, type DownloadProgress } from './download.ts';
import { defaultEndpoint, listFiles, type HubLocation } from './hub.ts';
import { selectFiles, type Variant } from './select-files.ts';

export interface FetchModelOptions {
  repo: string;
  variant?: Variant;
  revision?: string;
  /** Directory to write into; default models/<owner>__<name>. */
  outDir?: string;
  endpoint?: string;
  token?: string;
  progress?: DownloadProgress;
}

export const defaultModelDir = (repo: string) => join('models', repo.replace('/', '__'));

export async function fetchModel(options: FetchModelOptions): Promise<{ dir: string; layout: 'hf' | 'immich'; downloaded: string[]; cached: string[] }> {
  if (!/^[A-Za-z0-9][\w.-]*\/[A-Za-z0-9][\w.-]*$/.test(options.repo)) throw new Error(`"${options.repo}" is not a hub repository id (owner/name)`);
  const location: HubLocation = {
    endpoint: options.endpoint ?? defaultEndpoint(),
    repo: options.repo,
    revision: options.revision ?? 'main',
    ...(options.token ? { token: options.token } : {}),
  };
  const { layout, files } = selectFiles(await listFiles(location), options.variant ?? 'fp32');
  const dir = options.outDir ?? defaultModelDir(options.repo);
  const downloaded: string[] = [];
  const cached: string[] = [];
  for (const file of files) {
    const outcome = await downloadFile(location, file, dir, options.progress);
    (outcome === 'cached' ? cached : downloaded).push(file.path);
  }
  writeFileSync(
    join(dir, 'source.json'),
    `${JSON.stringify({ repo: options.repo, revision: location.revision, variant: options.variant ?? 'fp32', layout, files: files.map((f) => f.path) }, null, 2)}\n`,
  );
  return { dir, layout, downloaded, cached };
}
