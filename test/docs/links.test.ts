// The README and docs/ link to files and headings across the repository; this keeps those links
// pointing at something as files move and headings are renamed.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url).pathname;
const documents = ['README.md', ...readdirSync(join(root, 'docs')).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`)];

/** GitHub's anchors for a Markdown file's headings (lower case, punctuation dropped, spaces to dashes, repeats numbered). */
function anchors(file: string): Set<string> {
  const seen = new Map<string, number>();
  const text = readFileSync(file, 'utf8').replace(/^```[\s\S]*?^```/gm, '');
  for (const [, heading] of text.matchAll(/^#{1,6}\s+(.+?)\s*#*$/gm)) {
    const slug = heading!
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(count ? `${slug}-${count}` : slug, 0);
    seen.set(slug, count + 1);
  }
  return new Set(seen.keys());
}

/** Relative links of a Markdown file, outside code blocks: [text](target) and <img src>. */
function links(file: string): string[] {
  const text = readFileSync(file, 'utf8').replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!).filter((target) => !/^[a-z]+:/i.test(target));
}

describe.each(documents)('%s', (document) => {
  it('links only to files and headings that exist', () => {
    const from = join(root, document);
    const broken: string[] = [];
    for (const target of links(from)) {
      const [path = '', anchor] = target.split('#');
      const file = path ? join(dirname(from), decodeURIComponent(path)) : from;
      if (!existsSync(file)) broken.push(`${target}: no ${relative(root, file)}`);
      else if (anchor && statSync(file).isFile() && file.endsWith('.md') && !anchors(file).has(anchor))
        broken.push(`${target}: no heading #${anchor} in ${relative(root, file)}`);
    }
    expect(broken).toEqual([]);
  });
});
