// A generated image collection for the backfill tests: PNGs and JPEGs in
// nested folders, each distinct (seeded noise), plus the kinds of damage a
// real collection holds.
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import { seededRandom } from '../support/random.ts';

export interface Collection {
  root: string;
  /** Every valid image, by its path relative to the root. */
  images: Map<string, Uint8Array>;
  /** Files that must be reported as errors, by relative path. */
  corrupt: string[];
  /** Files that are no image and do not claim to be one: passed over. */
  ignored: string[];
}

/** A `width`×`height` image of seeded noise over a gradient: different bytes for every seed. */
export async function noiseImage(seed: number, format: 'png' | 'jpeg', width = 40 + (seed % 5) * 8, height = 32 + (seed % 3) * 8): Promise<Uint8Array> {
  const random = seededRandom(seed + 1);
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      pixels[o] = (x * 255) / width + random() * 64;
      pixels[o + 1] = (y * 255) / height + random() * 64;
      pixels[o + 2] = random() * 255;
    }
  const image = sharp(pixels, { raw: { width, height, channels: 3 } });
  return new Uint8Array(format === 'png' ? await image.png().toBuffer() : await image.jpeg({ quality: 85 }).toBuffer());
}

function write(root: string, relative: string, bytes: Uint8Array | string): void {
  const path = join(root, relative);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, bytes);
}

/**
 * `count` valid images (half PNG, half JPEG) spread over nested folders, a truncated JPEG, an empty
 * .png, a text file named .jpg, a notes.txt (no image, and not named like one) and a symbolic link
 * looping back to the root.
 */
export async function makeCollection(root: string, count: number): Promise<Collection> {
  const images = new Map<string, Uint8Array>();
  for (let i = 0; i < count; i++) {
    const format = i % 2 ? 'jpeg' : 'png';
    const folder = ['', 'a', 'a/b', 'c', 'c/d/e'][i % 5];
    const relative = `${folder ? `${folder}/` : ''}img-${i}.${format === 'png' ? 'png' : 'jpg'}`;
    const bytes = await noiseImage(i, format);
    write(root, relative, bytes);
    images.set(relative, bytes);
  }
  const jpeg = await noiseImage(10_000, 'jpeg', 120, 90);
  write(root, 'broken/truncated.jpg', jpeg.subarray(0, Math.floor(jpeg.length / 2)));
  write(root, 'broken/empty.png', new Uint8Array());
  write(root, 'broken/not-really.jpg', 'this is a text file with an image extension\n');
  write(root, 'notes.txt', 'not an image, and not named like one\n');
  symlinkSync('..', join(root, 'a', 'loop'));
  return { root, images, corrupt: ['broken/empty.png', 'broken/not-really.jpg', 'broken/truncated.jpg'], ignored: ['notes.txt'] };
}
