import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIGURATION_DOC, renderConfiguration } from '../../scripts/docs/configuration.ts';
import { schema as embedderSchema } from '../../embedder/config.ts';
import { schema as indexSchema } from '../../index/config.ts';
import { schema as startSchema } from '../../scripts/start-settings.ts';
import { schema as workerSchema } from '../../worker/config.ts';

const root = new URL('../../', import.meta.url).pathname;

describe(CONFIGURATION_DOC, () => {
  // Rendering fails first, naming the setting or binding, when one has no description.
  const rendered = renderConfiguration();

  it('is what npm run docs:config writes from the settings schemas, wrangler.toml and the backfill help', async () => {
    const committed = readFileSync(`${root}${CONFIGURATION_DOC}`, 'utf8');
    expect(committed === (await rendered), `${CONFIGURATION_DOC} is out of date: run \`npm run docs:config\` and commit it`).toBe(true);
  });

  it.each([
    ['## Worker', workerSchema],
    ['## Embedder', embedderSchema],
    ['## Local index', indexSchema],
    ['## npm start', startSchema],
  ])('lists every setting of its schema under "%s", with its default', async (heading, schema) => {
    const section = (await rendered).split('\n## ').find((part) => `## ${part}`.startsWith(`${heading}\n`));
    expect(section, `no section ${heading}`).toBeDefined();
    for (const [name, field] of Object.entries(schema.shape)) {
      const row = section!.split('\n').find((line) => line.startsWith(`| \`${name}\``));
      expect(row, `${name} has no row under ${heading}`).toBeDefined();
      const fallback = (field as { _zod: { def: { defaultValue?: unknown } } })._zod.def.defaultValue;
      if (typeof fallback === 'number') expect(row!.split(' | ')[1]).toContain(name.endsWith('_PORT') ? String(fallback) : fallback.toLocaleString('en-US'));
    }
  });

  it('names every binding wrangler.toml declares', async () => {
    const document = await rendered;
    const toml = readFileSync(`${root}wrangler.toml`, 'utf8');
    for (const [, name] of toml.matchAll(/^(?:binding|name) = "([A-Z_]+)"/gm)) expect(document).toContain(`| \`${name}\` |`);
  });
});
