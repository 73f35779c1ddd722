// The two Hugging Face hub endpoints a model download needs: the recursive
// file listing (with sizes and checksums) and the file download.
import type { IncomingMessage } from 'node:http';
import { httpGet } from './http-get.ts';

export interface HubFile {
  path: string;
  size: number;
  /** SHA-256 of the content for LFS files; null for small git-stored files. */
  sha256: string | null;
  /** Git blob SHA-1 for git-stored files (the listing's oid). */
  gitOid: string | null;
}

export interface HubLocation {
  /** Hub base URL, e.g. https://huggingface.co (HF_ENDPOINT overrides it). */
  endpoint: string;
  repo: string;
  revision: string;
  token?: string;
}

export const defaultEndpoint = () => (process.env.HF_ENDPOINT ?? 'https://huggingface.co').replace(/\/+$/, '');

function headers(location: HubLocation, extra: Record<string, string> = {}): Record<string, string> {
  return { ...(location.token ? { authorization: `Bearer ${location.token}` } : {}), ...extra };
}

interface TreeEntry {
  type: string;
  path: string;
  size: number;
  oid: string;
  lfs?: { oid: string; size: number };
}

export async function listFiles(location: HubLocation): Promise<HubFile[]> {
  const url = `${location.endpoint}/api/models/${location.repo}/tree/${encodeURIComponent(location.revision)}?recursive=true`;
  const response = await fetch(url, { headers: headers(location) });
  if (response.status === 401 || response.status === 404)
    throw new Error(`model ${location.repo}@${location.revision} not found on ${location.endpoint} (or it needs HF_TOKEN)`);
  if (!response.ok) throw new Error(`listing ${location.repo} failed: HTTP ${response.status}`);
  const entries = (await response.json()) as TreeEntry[];
  return entries
    .filter((e) => e.type === 'file')
    .map((e) => ({
      path: e.path,
      size: e.lfs?.size ?? e.size,
      sha256: e.lfs?.oid ?? null,
      gitOid: e.lfs ? null : e.oid,
    }));
}

export function fileUrl(location: HubLocation, path: string): string {
  const encoded = path.split('/').map(encodeURIComponent).join('/');
  return `${location.endpoint}/${location.repo}/resolve/${encodeURIComponent(location.revision)}/${encoded}`;
}

export function getFile(location: HubLocation, path: string, fromByte: number): Promise<IncomingMessage> {
  return httpGet(fileUrl(location, path), { headers: headers(location, fromByte > 0 ? { range: `bytes=${fromByte}-` } : {}) });
}
