import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fetchModel } from '../../embedder/model-fetch/fetch-model.ts';
import { temporaryDirectory } from '../support/files.ts';

// A local server that answers like the Hugging Face hub: the tree listing API
// (LFS files with their SHA-256, small files with their git blob SHA-1) and
// /resolve/ downloads honouring Range.
const repoFiles: Record<string, Buffer> = {
  'config.json': Buffer.from('{"projection_dim": 8}'),
  'preprocessor_config.json': Buffer.from('{"crop_size": 224}'),
  'tokenizer.json': Buffer.from('{"model": {}}'),
  'tokenizer_config.json': Buffer.from('{}'),
  'README.md': Buffer.from('# not needed'),
  'onnx/text_model.onnx': randomBytes(300_000),
  'onnx/vision_model.onnx': randomBytes(500_000),
  'onnx/text_model_quantized.onnx': randomBytes(80_000),
  'onnx/vision_model_quantized.onnx': randomBytes(120_000),
  'onnx/model.onnx': randomBytes(10_000),
};
const isLfs = (b: Buffer) => b.length > 1000;
const gitOid = (b: Buffer) => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');

let server: Server;
let cdn: Server;
let endpoint: string;
let cdnOrigin: string;
let cutAfter: Record<string, number> = {}; // path -> bytes to send before dropping the connection
let corrupt = new Set<string>();
let viaCdn = false; // answer /resolve/ with a redirect to another origin, as the real hub does for LFS files
let requests: { path: string; range?: string; authorization?: string }[] = [];
let hubRedirectAuthorizations: (string | undefined)[] = []; // the Authorization header of each /resolve/ request the hub redirected

function serveFile(req: IncomingMessage, res: ServerResponse, path: string) {
  const body = repoFiles[path];
  if (!body) return res.writeHead(404).end();
  requests.push({ path, ...(req.headers.range ? { range: req.headers.range } : {}), ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}) });
  const content = corrupt.has(path) ? Buffer.from(body).fill(0, 0, 10) : body;
  const start = Number(/bytes=(\d+)-/.exec(req.headers.range ?? '')?.[1] ?? 0);
  res.writeHead(start > 0 ? 206 : 200, { 'content-length': content.length - start });
  const limit = cutAfter[path];
  if (limit !== undefined) {
    delete cutAfter[path];
    // Close the connection cleanly after the first part: the client gets those bytes, then a short body.
    return res.write(content.subarray(start, start + limit), () => res.socket?.end());
  }
  res.end(content.subarray(start));
}

const listen = async (s: Server) => {
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
};

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url!, 'http://hub');
    if (url.pathname === '/api/models/acme/tiny-clip/tree/main') {
      const entries = Object.entries(repoFiles).map(([path, b]) => ({
        type: 'file',
        path,
        size: b.length,
        oid: gitOid(b),
        ...(isLfs(b) ? { lfs: { oid: createHash('sha256').update(b).digest('hex'), size: b.length, pointerSize: 130 } } : {}),
      }));
      return res.end(JSON.stringify([{ type: 'directory', path: 'onnx', oid: 'x', size: 0 }, ...entries]));
    }
    const m = /^\/acme\/tiny-clip\/resolve\/main\/(.+)$/.exec(url.pathname);
    const path = m ? decodeURIComponent(m[1]!) : '';
    if (viaCdn && repoFiles[path]) {
      hubRedirectAuthorizations.push(req.headers.authorization);
      return res.writeHead(302, { location: `${cdnOrigin}/blobs/${encodeURIComponent(path)}?signature=x` }).end();
    }
    serveFile(req, res, path);
  });
  cdn = createServer((req, res) => serveFile(req, res, decodeURIComponent(new URL(req.url!, 'http://cdn').pathname.replace(/^\/blobs\//, ''))));
  endpoint = await listen(server);
  cdnOrigin = await listen(cdn);
});
afterAll(() => Promise.all([server, cdn].map((s) => new Promise<void>((r) => s.close(() => r())))));
beforeEach(() => {
  cutAfter = {};
  corrupt = new Set();
  viaCdn = false;
  requests = [];
  hubRedirectAuthorizations = [];
});

const freshDir = () => temporaryDirectory('model-fetch-', 'test');

describe('model:fetch', () => {
  it('downloads the HF-layout files of the requested variant, verified, and nothing else', async () => {
    const dir = freshDir();
    const result = await fetchModel({ repo: 'acme/tiny-clip', variant: 'quantized', endpoint, outDir: dir });
    expect(result.layout).toBe('hf');
    expect(result.downloaded.sort()).toEqual(
      ['config.json', 'onnx/text_model_quantized.onnx', 'onnx/vision_model_quantized.onnx', 'preprocessor_config.json', 'tokenizer.json', 'tokenizer_config.json'].sort(),
    );
    for (const path of result.downloaded) expect(readFileSync(join(dir, path)).equals(repoFiles[path]!)).toBe(true);
    expect(existsSync(join(dir, 'README.md'))).toBe(false);
  });

  it('resumes an interrupted download with a Range request instead of starting over', async () => {
    const dir = freshDir();
    cutAfter['onnx/vision_model.onnx'] = 200_000;
    await expect(fetchModel({ repo: 'acme/tiny-clip', endpoint, outDir: dir })).rejects.toThrow(
      /onnx\/vision_model.onnx: stopped at byte 200000 of 500000 .*run again to resume/,
    );
    expect(statSync(join(dir, 'onnx/vision_model.onnx.part')).size).toBe(200_000);
    const second = await fetchModel({ repo: 'acme/tiny-clip', endpoint, outDir: dir });
    expect(second.downloaded).toEqual(['onnx/vision_model.onnx']);
    expect(requests.at(-1)).toEqual({ path: 'onnx/vision_model.onnx', range: 'bytes=200000-' });
    expect(readFileSync(join(dir, 'onnx/vision_model.onnx')).equals(repoFiles['onnx/vision_model.onnx']!)).toBe(true);
    expect(existsSync(join(dir, 'onnx/vision_model.onnx.part'))).toBe(false);
  });

  it('follows the hub redirect to its CDN, resumes there, and keeps the token on the hub', async () => {
    const dir = freshDir();
    viaCdn = true;
    cutAfter['onnx/text_model.onnx'] = 100_000;
    await expect(fetchModel({ repo: 'acme/tiny-clip', endpoint, outDir: dir, token: 'hf_secret' })).rejects.toThrow(/stopped at byte 100000/);
    await fetchModel({ repo: 'acme/tiny-clip', endpoint, outDir: dir, token: 'hf_secret' });
    expect(readFileSync(join(dir, 'onnx/text_model.onnx')).equals(repoFiles['onnx/text_model.onnx']!)).toBe(true);
    expect(requests.find((r) => r.path === 'onnx/text_model.onnx' && r.range)).toEqual({ path: 'onnx/text_model.onnx', range: 'bytes=100000-' });
    // Every request that reached the CDN arrived there without the hub token.
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.filter((r) => r.authorization)).toEqual([]);
    expect(hubRedirectAuthorizations.length).toBeGreaterThan(0);
    expect(new Set(hubRedirectAuthorizations)).toEqual(new Set(['Bearer hf_secret']));
  });

  it('refuses a file whose checksum does not match and keeps no partial copy', async () => {
    const dir = freshDir();
    corrupt.add('onnx/text_model.onnx');
    await expect(fetchModel({ repo: 'acme/tiny-clip', endpoint, outDir: dir })).rejects.toThrow(/text_model.onnx: checksum mismatch/);
    expect(existsSync(join(dir, 'onnx/text_model.onnx'))).toBe(false);
    expect(existsSync(join(dir, 'onnx/text_model.onnx.part'))).toBe(false);
  });

  it('skips files already present and verified', async () => {
    const dir = freshDir();
    await fetchModel({ repo: 'acme/tiny-clip', endpoint, outDir: dir });
    requests = [];
    const again = await fetchModel({ repo: 'acme/tiny-clip', endpoint, outDir: dir });
    expect(again.downloaded).toEqual([]);
    expect(requests).toEqual([]);
  });

  it('explains unknown repositories and missing variants', async () => {
    await expect(fetchModel({ repo: 'acme/nope', endpoint, outDir: freshDir() })).rejects.toThrow(/not found/);
    await expect(fetchModel({ repo: 'acme/tiny-clip', variant: 'fp16', endpoint, outDir: freshDir() })).rejects.toThrow(/no fp16 CLIP ONNX files/);
    await expect(fetchModel({ repo: '../etc', endpoint })).rejects.toThrow(/not a hub repository id/);
  });

  it('works as the npm run model:fetch command against HF_ENDPOINT', async () => {
    const dir = freshDir();
    const cli = new URL('../../embedder/model-fetch/cli.ts', import.meta.url).pathname;
    // Asynchronous: the hub stand-in runs in this process and must keep answering.
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', cli, 'acme/tiny-clip', '--variant', 'quantized', '--out', dir], {
      env: { ...process.env, HF_ENDPOINT: endpoint },
    });
    expect(stdout).toContain(`hf layout model in ${dir}`);
    expect(existsSync(join(dir, 'onnx/vision_model_quantized.onnx'))).toBe(true);
  });
});
