// embedder/Dockerfile cannot be built here (no container tool can pull images), so it is linted
// and held to what matters: the CUDA 12 + cuDNN 9 runtime base, pinned tags, a non-root user, a
// health check, the CUDA provider installed, and COPY sources that exist in the build context.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validate } from 'dockerfile-utils';
import { describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url).pathname;
const dockerfile = readFileSync(join(root, 'embedder/Dockerfile'), 'utf8');

interface Instruction {
  keyword: string;
  args: string;
}

/** The instructions, with continuation lines joined and comments left out. */
function instructions(text: string): Instruction[] {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const [keyword = '', ...rest] = line.split(/\s+/);
      return { keyword: keyword.toUpperCase(), args: rest.join(' ') };
    });
}

const all = instructions(dockerfile);
/** ARG defaults declared before the first FROM, which FROM lines may use. */
const globalArgs = new Map(
  all
    .slice(
      0,
      all.findIndex((i) => i.keyword === 'FROM'),
    )
    .filter((i) => i.keyword === 'ARG')
    .map((i) => i.args.split('=') as [string, string]),
);
const expand = (text: string) => text.replace(/\$\{?(\w+)\}?/g, (_, name: string) => globalArgs.get(name) ?? '');

/** Each stage: its base image (ARGs expanded), its name, its instructions. */
const stages = all.reduce<{ base: string; name?: string; body: Instruction[] }[]>((list, instruction) => {
  if (instruction.keyword === 'FROM') {
    const [image = '', as, name] = instruction.args.split(/\s+/);
    list.push({ base: expand(image), ...(as?.toUpperCase() === 'AS' && name ? { name } : {}), body: [] });
  } else list.at(-1)?.body.push(instruction);
  return list;
}, []);
const runtime = stages.at(-1)!;
const stageNames = new Set(stages.flatMap((stage) => (stage.name ? [stage.name] : [])));

describe('embedder/Dockerfile', () => {
  it('passes dockerfile-utils validation, which does report a broken Dockerfile', () => {
    expect(validate('FROM\nEXPOSE port\n').length).toBeGreaterThan(0);
    expect(validate(dockerfile).map((d) => `line ${d.range.start.line + 1}: ${d.message}`)).toEqual([]);
  });

  it('runs on an official CUDA 12 + cuDNN 9 runtime image, every image pinned to a version', () => {
    expect(runtime.base).toMatch(/^nvidia\/cuda:12\.\d+\.\d+-cudnn9?-runtime-ubuntu\d\d\.\d\d$/);
    for (const { base } of stages) {
      if (stageNames.has(base)) continue;
      expect(base, `${base} names no tag`).toMatch(/:[^/]+$/);
      expect(base).not.toMatch(/:latest$/);
    }
  });

  it('pins the Node version CI tests with', () => {
    const ciNode = /^NODE_REFERENCE=(\S+)/m.exec(readFileSync(join(root, '.ci/run'), 'utf8'))?.[1];
    expect(ciNode).toBeDefined();
    expect(globalArgs.get('NODE_VERSION')).toBe(ciNode);
  });

  it('installs the production dependencies with onnxruntime-node CUDA 12 provider and requires the native addon', () => {
    const install = stages.flatMap((stage) => stage.body).find((i) => i.keyword === 'RUN' && i.args.includes('npm ci'));
    expect(install?.args).toMatch(/ONNXRUNTIME_NODE_INSTALL=cuda12/);
    expect(install?.args).toMatch(/--omit=dev/);
    expect(install?.args).toMatch(/CROSSMODAL_REQUIRE_NATIVE=1/);
    const addonFile = /build\/Release\/[\w.-]+\.node/.exec(readFileSync(join(root, 'native/addon.ts'), 'utf8'))?.[0];
    expect(addonFile).toBeDefined();
    expect(runtime.body.some((i) => i.keyword === 'COPY' && i.args.includes(addonFile!))).toBe(true);
  });

  it('runs the embedder as a non-root user on CUDA, exposes its port and checks its health', () => {
    const user = runtime.body.filter((i) => i.keyword === 'USER').at(-1)?.args;
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^(root|0)(:|$)/);
    const env = runtime.body.filter((i) => i.keyword === 'ENV').map((i) => i.args).join(' ');
    expect(env).toMatch(/\bEMBEDDER_DEVICE=cuda\b/);
    expect(env).toMatch(/\bEMBEDDER_HOST=0\.0\.0\.0\b/);
    const port = /\bEMBEDDER_PORT=(\d+)/.exec(env)?.[1];
    expect(runtime.body.find((i) => i.keyword === 'EXPOSE')?.args).toBe(port);
    expect(runtime.body.find((i) => i.keyword === 'HEALTHCHECK')?.args).toMatch(/\/(readyz|healthz)/);
    expect(runtime.body.find((i) => i.keyword === 'CMD')?.args).toContain('embedder/main.ts');
  });

  it('copies only files that exist in the repository and that .dockerignore lets into the build context', () => {
    const ignored = readFileSync(join(root, '.dockerignore'), 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith('#'));
    const sources = stages
      .flatMap((stage) => stage.body)
      .filter((i) => i.keyword === 'COPY' && !/--from=/.test(i.args))
      .flatMap((i) => i.args.split(/\s+/).filter((word) => !word.startsWith('--')).slice(0, -1));
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) {
      expect(existsSync(join(root, source)), `${source} is not in the repository`).toBe(true);
      const path = source.replace(/\/$/, '');
      expect(
        ignored.filter((pattern) => path === pattern || path.startsWith(`${pattern}/`)),
        `${source} is left out by .dockerignore`,
      ).toEqual([]);
    }
  });
});
