// The search page (worker/page/) in headless Chromium, on the real stack: the
// demo model in the embedder, a generated collection backfilled through the
// backfill CLI and the worker's admin API, the page served by the worker's
// static assets. Each check compares what the page shows with what the API
// answers for the same query, and with the collection's labels.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labelPrompt } from '../../demo/collection/captions.ts';
import { collectionItems, writeCollection, type CollectionItem } from '../../demo/collection/generate.ts';
import { DEMO_SEED } from '../../demo/train/settings.ts';
import { runCli, summaryOf } from '../backfill/cli.ts';
import { eventually } from '../support/timing.ts';
import { ADMIN_TOKEN, EMBEDDER_TOKEN, startStack, type Stack } from '../support/worker-stack.ts';
import { chromiumPath } from './chromium.ts';

const MODEL_DIR = fileURLToPath(new URL('../../demo/model', import.meta.url));
const SCREENSHOTS = fileURLToPath(new URL('../output/screenshots/', import.meta.url));
/** The README's picture of the page, rewritten only when asked (UPDATE_README_SCREENSHOT=1), so a test run leaves the tree clean. */
const README_SCREENSHOT = process.env.UPDATE_README_SCREENSHOT === '1' ? fileURLToPath(new URL('../../docs/images/search-page.png', import.meta.url)) : join(SCREENSHOTS, 'readme.png');
const COLLECTION_SIZE = 120;
/** The page's page size (worker/page/search.js). */
const PAGE_SIZE = 24;

const executablePath = chromiumPath();

let stack: Stack;
let tmp: string;
let browser: Browser;
let page: Page;
/** What the page's Content-Security-Policy refused, and uncaught script errors, over every test. */
const violations: string[] = [];
const watch = (watched: Page): Page => {
  watched.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
  });
  watched.on('pageerror', (error) => violations.push(`uncaught: ${error.message}`));
  return watched;
};
let labelsById: Map<string, string>;
/** The colour-shape pair most items show alone, e.g. "red circle". */
let common: string;

interface Answer {
  results: { id: string; score: number; metadata?: Record<string, unknown> }[];
  nextCursor: string | null;
}

async function api(body: Record<string, unknown>): Promise<Answer> {
  const response = await fetch(`${stack.worker.url}/v1/search`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ k: PAGE_SIZE, metadata: 'all', ...body }),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as Answer;
}

/** Evaluated in the page (the expressions are strings: this project's types have no DOM). */
const inPage = <T>(expression: string, on: Page = page) => on.evaluate(expression) as Promise<T>;
const shownIds = () => inPage<string[]>(`[...document.querySelectorAll('#grid .card')].map((card) => card.dataset.id)`);
const focusedId = () => inPage<string | undefined>('document.activeElement?.id');
/** The id of the result whose control has the focus. */
const focusedResult = () => inPage<string | undefined>(`document.activeElement?.closest('.card')?.dataset.id`);
/** Whether the first result shows its score and metadata (on hover or focus). */
const firstDetailsShown = () => inPage<boolean>(`getComputedStyle(document.querySelector('#grid .card .info')).transform === 'none'`);
const statusText = () => page.locator('#status').textContent();
const screenshot = (name: string) => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: false });

async function openPage(): Promise<void> {
  await page.goto(`${stack.worker.url}/`);
  await expect.poll(() => page.locator('#model').textContent()).toMatch(/^Model: /);
}

async function typeQuery(text: string): Promise<void> {
  await page.locator('#q').fill('');
  await page.locator('#q').pressSequentially(text, { delay: 40 });
}

describe.skipIf(!executablePath)('the search page in a browser', () => {
  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'search-page-'));
    mkdirSync(SCREENSHOTS, { recursive: true });
    const [started, written, launched] = await Promise.all([
      startStack({
        modelDir: MODEL_DIR,
        metadataIndexes: [{ propertyName: 'labels', indexType: 'string' }],
        vars: { FILTERABLE_FIELDS: 'labels:string' },
      }),
      writeCollection({ split: 'demo', seed: DEMO_SEED, count: COLLECTION_SIZE, outDir: tmp }),
      chromium.launch({ executablePath: executablePath! }),
    ]);
    stack = started;
    browser = launched;
    const collection = await collectionItems(COLLECTION_SIZE, { seed: DEMO_SEED, split: 'demo' });
    labelsById = new Map(collection.map((item) => [item.id, item.labels]));
    const alone = (labels: string) => collection.filter((item) => item.labels === labels).length;
    common = [...new Set(labelsById.values())].filter((l) => !l.includes(',')).sort((a, b) => alone(b) - alone(a))[0]!;
    expect(alone(common)).toBeGreaterThanOrEqual(3);
    const run = await runCli(
      [written.manifest, '--target', 'worker', '--worker-url', stack.worker.url, '--embedder', stack.embedder.url, '--checkpoint', join(tmp, 'checkpoint'), '--thumbnails'],
      { env: { ADMIN_TOKEN, EMBEDDER_TOKEN } },
    );
    expect(run.code, run.stderr).toBe(0);
    expect(summaryOf(run.stdout)).toMatchObject({ indexed: COLLECTION_SIZE, failed: 0 });
    await eventually(
      async () => {
        const info = (await (await fetch(`${stack.indexUrl}/info`)).json()) as { result: { vectorCount: number } };
        return info.result.vectorCount === COLLECTION_SIZE ? true : undefined;
      },
      `${COLLECTION_SIZE} vectors in the index`,
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    page = watch(await browser.newPage({ viewport: { width: 1100, height: 760 } }));
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('is served at / with the model, its notice (if the embedder gives one) and the filterable fields', async () => {
    const info = (await (await fetch(`${stack.worker.url}/v1/info`)).json()) as { model: { id: string; dim: number; notice?: string }; filterable: unknown };
    expect(info.model.dim).toBe(stack.dim);
    expect(info.filterable).toEqual([{ name: 'labels', type: 'string' }]);
    // The API keeps running the worker first: the page never shadows it.
    expect((await fetch(`${stack.worker.url}/healthz`)).headers.get('content-type')).toMatch(/^application\/json/);

    await openPage();
    expect(await page.title()).toBe('crossmodal search');
    expect(await page.locator('#model').textContent()).toBe(`Model: ${info.model.id}, ${info.model.dim} dimensions`);
    if (info.model.notice) expect(await page.locator('#notice').textContent()).toBe(info.model.notice);
    expect(await page.locator('#notice').isVisible()).toBe(Boolean(info.model.notice));
    expect(await page.locator('#filters summary').isVisible()).toBe(true);
    expect(await page.locator('#empty').isVisible()).toBe(true);
    expect(await focusedId()).toBe('q');
    await screenshot('empty');
  });

  it('shows results as the query is typed, with one request per pause and the API\'s ranking', async () => {
    await openPage();
    const searches: string[] = [];
    page.on('request', (request) => {
      if (new URL(request.url()).pathname === '/v1/search') searches.push(request.url());
    });
    await typeQuery(labelPrompt(common));
    const expected = (await api({ text: labelPrompt(common) })).results.map((r) => r.id);
    await expect.poll(shownIds).toEqual(expected);
    expect(labelsById.get(expected[0]!)).toContain(common);
    // Debounced: far fewer requests than keystrokes.
    expect(searches.length).toBeLessThan(labelPrompt(common).length / 2);
    expect(await statusText()).toMatch(new RegExp(`^${PAGE_SIZE} results so far · cache (hit|miss) · \\d+ ms`));
    // Score and metadata show when a result is hovered.
    const first = page.locator('#grid .card').first();
    await first.hover();
    await expect.poll(firstDetailsShown).toBe(true);
    expect(await first.locator('.info').textContent()).toContain(labelsById.get(expected[0]!)!);
    await screenshot('results');
    // The root README's picture: the search box and the first rows, at 80% and in 96 colours (about 90 KB).
    await sharp(await page.screenshot({ clip: { x: 0, y: 0, width: 1100, height: 620 } }))
      .resize(880)
      .png({ palette: true, colours: 96, dither: 0, compressionLevel: 9, effort: 10 })
      .toFile(README_SCREENSHOT);
    await page.mouse.move(0, 0);
    await page.emulateMedia({ colorScheme: 'dark' });
    await screenshot('results-dark');
    await page.emulateMedia({ colorScheme: 'light' });
  });

  it('searches by an uploaded image', async () => {
    await openPage();
    // An image the index does not hold (another seed), of one object whose colour and shape the collection has.
    const candidates = await collectionItems(40, { seed: DEMO_SEED + 500, split: 'demo' });
    const counts = (labels: string) => [...labelsById.values()].filter((l) => l.split(', ').includes(labels)).length;
    const query = candidates.find((item: CollectionItem) => item.scene.objects.length === 1 && counts(item.labels) >= 3)!;
    const file = join(tmp, 'query.jpg');
    writeFileSync(file, query.jpeg);
    await page.locator('#file').setInputFiles(file);
    const expected = (await api({ image: `data:image/jpeg;base64,${query.jpeg.toString('base64')}` })).results.map((r) => r.id);
    await expect.poll(shownIds).toEqual(expected);
    expect(await page.locator('#chips').textContent()).toContain('image: query.jpg');
    const matching = expected.slice(0, 5).filter((id) => labelsById.get(id)!.split(', ').includes(query.labels));
    expect(matching.length).toBeGreaterThanOrEqual(1);
    await screenshot('image-query');
  });

  it('takes an image dropped on the page or pasted into it', async () => {
    const [item] = await collectionItems(1, { seed: DEMO_SEED + 501, split: 'demo' });
    const expected = (await api({ image: `data:image/jpeg;base64,${item!.jpeg.toString('base64')}` })).results.map((r) => r.id);
    const transfer = `(() => {
      const transfer = new DataTransfer();
      const bytes = Uint8Array.from(atob('${item!.jpeg.toString('base64')}'), (c) => c.charCodeAt(0));
      transfer.items.add(new File([bytes], 'shape.jpg', { type: 'image/jpeg' }));
      return transfer;
    })()`;
    await openPage();
    await inPage(`(() => {
      const dataTransfer = ${transfer};
      document.body.dispatchEvent(new DragEvent('dragenter', { dataTransfer, bubbles: true }));
      window.dropOverlayShown = !document.getElementById('drop').hidden;
      document.body.dispatchEvent(new DragEvent('drop', { dataTransfer, bubbles: true, cancelable: true }));
    })()`);
    expect(await inPage<boolean>('window.dropOverlayShown')).toBe(true);
    await expect.poll(shownIds).toEqual(expected);
    expect(await page.locator('#drop').isVisible()).toBe(false);

    await openPage();
    await inPage(`document.dispatchEvent(new ClipboardEvent('paste', { clipboardData: ${transfer}, bubbles: true, cancelable: true }))`);
    await expect.poll(shownIds).toEqual(expected);
    expect(await page.locator('#chips').textContent()).toContain('image: shape.jpg');
  });

  it('finds more like a result, and pages further', async () => {
    await openPage();
    await typeQuery('a blue square');
    await expect.poll(async () => (await shownIds()).length).toBe(PAGE_SIZE);
    const [chosen] = await shownIds();
    await page.locator('#grid .card').first().hover();
    await page.locator('#grid .card').first().getByRole('button', { name: /^More like this/ }).click();
    const like = await api({ id: chosen });
    await expect.poll(shownIds).toEqual(like.results.map((r) => r.id));
    expect(like.results.map((r) => r.id)).not.toContain(chosen);
    expect(await page.locator('#chips').textContent()).toContain('like:');
    expect(await page.locator('#q').inputValue()).toBe('');

    const second = await api({ id: chosen, cursor: like.nextCursor });
    await page.locator('#more').click();
    await expect.poll(shownIds).toEqual([...like.results, ...second.results].map((r) => r.id));
    expect(new Set(await shownIds()).size).toBe(2 * PAGE_SIZE);
    // Focus moves to the first new result, so keyboard users continue where the new page starts.
    expect(await focusedResult()).toBe(second.results[0]!.id);
    await screenshot('more-like-this-page-2');
  });

  it('combines words with a negative word, and filters by a metadata field', async () => {
    await openPage();
    await typeQuery('a circle -red');
    const combined = await api({ parts: [{ text: 'a circle', weight: 1 }, { text: 'red', weight: -0.5 }] });
    await expect.poll(shownIds).toEqual(combined.results.map((r) => r.id));
    const firstFive = combined.results.slice(0, 5).map((r) => labelsById.get(r.id)!);
    expect(firstFive.every((labels) => !labels.includes('red '))).toBe(true);

    await page.locator('#filters summary').click();
    await page.getByRole('textbox', { name: 'labels' }).fill(common);
    const filtered = await api({ parts: [{ text: 'a circle', weight: 1 }, { text: 'red', weight: -0.5 }], filter: { labels: common } });
    expect(filtered.results.length).toBeGreaterThanOrEqual(3);
    await expect.poll(shownIds).toEqual(filtered.results.map((r) => r.id));
    expect(filtered.results.every((r) => labelsById.get(r.id) === common)).toBe(true);
    await screenshot('negative-and-filter');
  });

  it('can be used with the keyboard alone', async () => {
    await openPage();
    await page.locator('body').click({ position: { x: 5, y: 5 } });
    await page.keyboard.press('/');
    expect(await focusedId()).toBe('q');
    await page.keyboard.type('a green heart');
    await page.keyboard.press('Enter');
    await expect.poll(async () => (await shownIds()).length).toBe(PAGE_SIZE);
    // Tab order: the image button, the filters, then the results' "More like this" buttons.
    let focused: string | undefined;
    for (let presses = 0; presses < 8 && !focused; presses++) {
      await page.keyboard.press('Tab');
      focused = await focusedResult();
    }
    const [first] = await shownIds();
    expect(focused).toBe(first);
    // The focused result shows its score and metadata, with a visible focus ring.
    await expect.poll(firstDetailsShown).toBe(true);
    expect(await inPage<string>('getComputedStyle(document.activeElement).outlineStyle')).toBe('solid');
    await screenshot('keyboard-focus');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('#chips').textContent()).toContain('like:');
    expect(await focusedId()).toBe('q');
    const like = await api({ id: first });
    await expect.poll(shownIds).toEqual(like.results.map((r) => r.id));
    // Escape on an empty box drops the query's parts: back to the empty state.
    await page.keyboard.press('Escape');
    await expect.poll(() => page.locator('#empty').isVisible()).toBe(true);
    expect(await page.locator('#chips li').count()).toBe(0);
  });

  it('fits a phone screen', async () => {
    const phone = watch(await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true }));
    try {
      await phone.goto(`${stack.worker.url}/`);
      await phone.locator('#q').fill('a yellow star');
      await expect.poll(() => phone.locator('#grid .card').count()).toBe(PAGE_SIZE);
      const widths = await inPage<{ page: number; viewport: number }>('({ page: document.documentElement.scrollWidth, viewport: innerWidth })', phone);
      expect(widths.page).toBeLessThanOrEqual(widths.viewport);
      await phone.screenshot({ path: join(SCREENSHOTS, 'phone.png') });
    } finally {
      await phone.close();
    }
  });

  it('shows each result\'s thumbnail, and a placeholder with its caption for an item without one', async () => {
    await openPage();
    const caption = 'a note about circles, with no picture';
    const written = await fetch(`${stack.worker.url}/v1/items`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ items: [{ id: 'text-note', text: caption, metadata: { caption } }] }),
    });
    expect(written.status).toBe(202);
    await eventually(async () => ((await api({ text: caption })).results[0]?.id === 'text-note' ? true : undefined), 'the note is searchable');
    await typeQuery(caption);
    await expect.poll(async () => (await shownIds())[0]).toBe('text-note');
    const note = page.locator('#grid .card').first();
    await expect.poll(() => note.locator('.placeholder').textContent()).toBe(caption);
    // The images: every other result's thumbnail, decoded.
    const loaded = `[...document.querySelectorAll('#grid .card img')].filter((img) => img.complete && img.naturalWidth > 0).length`;
    await expect.poll(() => inPage<number>(loaded)).toBe(PAGE_SIZE - 1);
    await screenshot('thumbnails-and-placeholder');
  });

  it('says when the embedder is down, and still answers queries searched before', async () => {
    await openPage();
    await stack.killEmbedder();
    await typeQuery('a purple ring');
    await expect.poll(statusText).toMatch(/embedder is down.*searched before still work/);
    expect(await page.locator('#status').getAttribute('role')).toBe('alert');
    expect(await shownIds()).toEqual([]);
    expect(await page.locator('#more').isVisible()).toBe(false);
    await screenshot('embedder-down');

    await typeQuery(labelPrompt(common));
    const cached = await api({ text: labelPrompt(common) });
    await expect.poll(shownIds).toEqual(cached.results.map((r) => r.id));
    // From the result cache, or computed afresh with the query's embedding from KV: either way no error.
    expect(await statusText()).toMatch(/^\d+ results .*· cache (hit|stale|miss) ·/);
    expect(await page.locator('#status').getAttribute('role')).toBe('status');
  });

  // Last, after every state has been shown: the policy in index.html let all of it run.
  it('ran every state above within its Content-Security-Policy, with no uncaught script error', () => {
    expect(violations).toEqual([]);
  });
});
