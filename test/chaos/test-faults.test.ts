// The embedder's test-only fault (embedder/http/test-faults.ts), which the
// chaos suite uses to make it slow: it exists only with NODE_ENV=test and
// EMBEDDER_TEST_FAULTS=1, and the flag in any other environment stops the
// embedder from starting, so a production start cannot turn it on.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate } from '../../embedder/model-gen/generate.ts';
import { temporaryDirectory } from '../support/files.ts';
import { startService, type ServiceProcess } from '../support/service-process.ts';

const TOKEN = 'faults-test-token';
let modelDir: string;
const started: ServiceProcess[] = [];

const embedder = async (env: Record<string, string>) => {
  const service = await startService('embedder/main.ts', { MODEL_DIR: modelDir, EMBEDDER_PORT: '0', EMBEDDER_TOKEN: TOKEN, EMBEDDER_THREADS: '1', ...env }, 'embedder ready');
  started.push(service);
  return service;
};
const call = (url: string, path: string, init: RequestInit = {}) =>
  fetch(`${url}${path}`, { ...init, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...(init.headers as Record<string, string>) } });
const setDelay = (url: string, body: unknown) => call(url, '/v1/test/faults', { method: 'PUT', body: JSON.stringify(body) });
const embedOnce = async (url: string) => {
  const started = performance.now();
  const response = await call(url, '/v1/embed/text', { method: 'POST', body: JSON.stringify({ texts: ['a kite'] }) });
  expect(response.status).toBe(200);
  await response.arrayBuffer();
  return performance.now() - started;
};

beforeAll(() => {
  const dir = temporaryDirectory('faults-');
  generate({ arch: 'tiny', outDir: dir, seed: 3, layouts: ['hf'] });
  modelDir = join(dir, 'tiny-hf');
});
afterAll(async () => {
  await Promise.all(started.map((s) => s.stop()));
});

describe('the embedder test-only delay', () => {
  it('slows every /v1 call by the delay set, and clears, when NODE_ENV=test and EMBEDDER_TEST_FAULTS=1', async () => {
    const { url } = await embedder({ NODE_ENV: 'test', EMBEDDER_TEST_FAULTS: '1' });
    expect(await embedOnce(url)).toBeLessThan(400);
    expect((await setDelay(url, { delayMs: 600 })).status).toBe(200);
    expect(await embedOnce(url)).toBeGreaterThanOrEqual(600);
    expect((await setDelay(url, { delayMs: 0 })).status).toBe(200);
    expect(await embedOnce(url)).toBeLessThan(400);
    const refused = await setDelay(url, { delayMs: -1 });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('invalid_request');
    expect((await fetch(`${url}/v1/test/faults`, { method: 'PUT', body: '{"delayMs":1}' })).status).toBe(401);
  });

  it('does not exist without the flag', async () => {
    const { url } = await embedder({ NODE_ENV: 'test' });
    expect((await setDelay(url, { delayMs: 600 })).status).toBe(404);
  });

  it('stops the embedder from starting when the flag is set outside NODE_ENV=test', async () => {
    const failure = await embedder({ NODE_ENV: 'production', EMBEDDER_TEST_FAULTS: '1' }).then(
      () => undefined,
      (error: Error) => error.message,
    );
    expect(failure).toMatch(/exited with 1 before it was ready/);
    expect(failure).toMatch(/EMBEDDER_TEST_FAULTS is a test-only setting/);
  });
});
