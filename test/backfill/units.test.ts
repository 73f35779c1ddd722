// The backfill's own building blocks, on their real inputs: the checkpoint
// file, the fingerprint set, ids, backoff, the index URL forms, --id-from.
import { createHash } from 'node:crypto';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CheckpointWriter, loadCheckpoint } from '../../backfill/checkpoint.ts';
import { FatalError, UsageError, retryAfterMs } from '../../backfill/failures.ts';
import { FingerprintSet, fingerprint } from '../../backfill/fingerprint-set.ts';
import { imageContentId, locatorId, normalizeUrl, textContentId, urlId } from '../../backfill/ids.ts';
import { parseIndexUrl, parseOptions, type Options } from '../../backfill/options.ts';
import { backoffDelay, DEFAULT_RETRY } from '../../backfill/retry.ts';
import { temporaryDirectory } from '../support/files.ts';

const scope = { source: '/photos', target: 'local index x', idFrom: 'content' };

describe('checkpoint', () => {
  it('keeps what was appended, cuts a line torn by a crash, and refuses another backfill\'s file', async () => {
    const path = join(temporaryDirectory('checkpoint-', 'test'), 'run.checkpoint');
    const writer = await CheckpointWriter.open(path, scope, 0);
    await writer.append([{ key: fingerprint('file:a.jpg:1:2'), id: 'a' }, { key: fingerprint('file:b.jpg:1:2'), id: 'line\nbreak' }]);
    await writer.close();
    appendFileSync(path, `${fingerprint('file:c.jpg:1:2')} "c`); // kill -9 in the middle of a write

    const loaded = await loadCheckpoint(path, scope);
    expect(loaded.entries).toBe(2);
    expect(loaded.keys.has(fingerprint('file:a.jpg:1:2'))).toBe(true);
    expect(loaded.keys.has(fingerprint('file:c.jpg:1:2'))).toBe(false);
    expect(loaded.ids.has(fingerprint('line\nbreak'))).toBe(true);
    expect(readFileSync(path, 'utf8').endsWith('"line\\nbreak"\n')).toBe(true);

    const resumed = await CheckpointWriter.open(path, scope, loaded.entries);
    await resumed.append([{ key: fingerprint('file:c.jpg:1:2'), id: 'c' }]);
    await resumed.close();
    expect((await loadCheckpoint(path, scope)).entries).toBe(3);

    await expect(loadCheckpoint(path, { ...scope, target: 'local index y' })).rejects.toThrow(/belongs to another backfill \(target: local index x there, local index y now\)/);
  });

  it('a damaged line in the middle is an error, not a silent skip', async () => {
    const path = join(temporaryDirectory('checkpoint-', 'test'), 'damaged.checkpoint');
    writeFileSync(path, `# crossmodal-backfill checkpoint v1 ${JSON.stringify(scope)}\nnot an entry\n${fingerprint('x')} "x"\n`);
    await expect(loadCheckpoint(path, scope)).rejects.toBeInstanceOf(FatalError);
  });
});

describe('FingerprintSet', () => {
  it('holds every fingerprint added, through its growth, and nothing else', () => {
    const set = new FingerprintSet();
    const added = Array.from({ length: 20_000 }, (_, i) => fingerprint(`item ${i}`));
    for (const f of added) expect(set.add(f)).toBe(true);
    expect(set.add(added[7]!)).toBe(false);
    expect(set.size).toBe(20_000);
    expect(added.every((f) => set.has(f))).toBe(true);
    expect(Array.from({ length: 2000 }, (_, i) => fingerprint(`other ${i}`)).some((f) => set.has(f))).toBe(false);
    expect(set.add('0000000000000000')).toBe(true);
    expect(set.has('0000000000000000')).toBe(true);
  });
});

describe('ids', () => {
  it('content ids are the first 32 hex characters of the SHA-256 of the bytes; texts are kept apart from images', () => {
    const bytes = new Uint8Array([1, 2, 3]);
    expect(imageContentId(bytes)).toBe(createHash('sha256').update(bytes).digest('hex').slice(0, 32));
    expect(textContentId('abc')).not.toBe(imageContentId(new TextEncoder().encode('abc')));
  });

  it('path ids are the path up to 64 bytes of UTF-8, else its hash', () => {
    expect(locatorId('a/b.jpg')).toBe('a/b.jpg');
    const sixtyFour = `${'x'.repeat(60)}.jpg`;
    expect(locatorId(sixtyFour)).toBe(sixtyFour);
    const multibyte = `${'é'.repeat(31)}.jpg`; // 35 characters, 66 bytes
    expect(locatorId(multibyte)).toBe(createHash('sha256').update(multibyte).digest('hex').slice(0, 32));
  });

  it('url ids are the first 32 hex characters of the SHA-256 of the normalised URL', () => {
    const url = 'https://images.example/photos/2020/beach.jpg?size=large';
    expect(urlId(url)).toBe(createHash('sha256').update(url).digest('hex').slice(0, 32));
    // Scheme and host case, the default port, dot segments and the fragment do not change which image a URL names.
    expect(normalizeUrl('HTTPS://Images.Example:443/photos/./2020/../2020/beach.jpg?size=large#top')).toBe(url);
    expect(urlId('HTTPS://Images.Example:443/photos/./2020/../2020/beach.jpg?size=large#top')).toBe(urlId(url));
    expect(normalizeUrl('http://h.example')).toBe('http://h.example/');
    // The query does name another resource, and the path is case-sensitive.
    expect(urlId(`${url}&v=2`)).not.toBe(urlId(url));
    expect(urlId(url.replace('beach', 'Beach'))).not.toBe(urlId(url));
  });
});

describe('--id-from', () => {
  const idFrom = (...args: string[]) => (parseOptions(['urls.txt', ...args], {}, '/tmp') as Options).idFrom;

  it('defaults to content, and to url for the queue target, which never downloads', () => {
    expect(idFrom()).toBe('content');
    expect(idFrom('--target', 'worker')).toBe('content');
    expect(idFrom('--target', 'queue')).toBe('url');
    expect(idFrom('--target', 'queue', '--id-from', 'path')).toBe('path');
    expect(idFrom('--target', 'local', '--id-from', 'url')).toBe('url');
  });

  it('refuses content ids for the queue target, saying what to use instead', () => {
    expect(() => idFrom('--target', 'queue', '--id-from', 'content')).toThrow(UsageError);
    expect(() => idFrom('--target', 'queue', '--id-from', 'content')).toThrow(/without downloading.*--id-from url/);
    expect(() => idFrom('--id-from', 'name')).toThrow(/content, path or url/);
  });
});

describe('backoff', () => {
  it('is uniform up to base·2^attempt, capped, and never shorter than Retry-After', () => {
    expect(backoffDelay(0, DEFAULT_RETRY, undefined, () => 0.999)).toBeCloseTo(DEFAULT_RETRY.baseMs, -1);
    expect(backoffDelay(3, DEFAULT_RETRY, undefined, () => 0.5)).toBe(DEFAULT_RETRY.baseMs * 4);
    expect(backoffDelay(40, DEFAULT_RETRY, undefined, () => 1)).toBe(DEFAULT_RETRY.capMs);
    expect(backoffDelay(0, DEFAULT_RETRY, 5000, () => 0)).toBe(5000);
  });

  it('reads Retry-After as seconds or as a date', () => {
    expect(retryAfterMs('3')).toBe(3000);
    expect(retryAfterMs(new Date(Date.now() + 10_000).toUTCString())).toBeGreaterThan(8000);
    expect(retryAfterMs('soon')).toBeUndefined();
    expect(retryAfterMs(null)).toBeUndefined();
  });
});

describe('--index-url', () => {
  it('takes the service address, its /client/v4 base, or a full index URL', () => {
    expect(parseIndexUrl('http://127.0.0.1:8791')).toEqual({ baseURL: 'http://127.0.0.1:8791/client/v4' });
    expect(parseIndexUrl('http://h:1/client/v4/')).toEqual({ baseURL: 'http://h:1/client/v4' });
    expect(parseIndexUrl('http://h:1/client/v4/accounts/acc/vectorize/v2/indexes/photos')).toEqual({ baseURL: 'http://h:1/client/v4', account: 'acc', index: 'photos' });
    expect(() => parseIndexUrl('http://h:1/somewhere')).toThrow(/--index-url/);
    expect(() => parseIndexUrl('ftp://h')).toThrow(/http/);
  });
});
