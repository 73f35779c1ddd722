// Image files an attacker would send: headers that lie about the size,
// zlib bombs, truncated and polyglot files. Built here from real encoders'
// output so each one is exactly what it claims to be.
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { PNG_SIGNATURE, pngChunk } from '../support/png.ts';

/** A real 16×16 JPEG whose frame header is rewritten to declare width × height: a few hundred bytes. */
export async function jpegDeclaring(width: number, height: number, seed = 0): Promise<Uint8Array> {
  const small = await sharp({ create: { width: 16, height: 16, channels: 3, background: { r: 128, g: seed % 256, b: 64 } } })
    .jpeg({ quality: 50 })
    .toBuffer();
  const bytes = Buffer.from(small);
  for (let at = 2; at + 9 < bytes.length && bytes[at] === 0xff; ) {
    const marker = bytes[at + 1]!;
    if (marker === 0xc0 || marker === 0xc2) {
      bytes.writeUInt16BE(height, at + 5);
      bytes.writeUInt16BE(width, at + 7);
      return new Uint8Array(bytes);
    }
    at += 2 + bytes.readUInt16BE(at + 2);
  }
  throw new Error('no SOF marker in the JPEG sharp wrote');
}

const ihdr = (width: number, height: number, bitDepth: number, colourType: number) => {
  const data = Buffer.alloc(13);
  data.writeUInt32BE(width, 0);
  data.writeUInt32BE(height, 4);
  data.set([bitDepth, colourType, 0, 0, 0], 8);
  return pngChunk('IHDR', data);
};

/**
 * A complete, valid PNG of width × height black pixels, 1-bit greyscale, at
 * zlib's best compression: 7000×7000 is a 6 KB file that decodes to 147 MB of RGB.
 */
export function pngZlibBomb(width: number, height: number): Uint8Array {
  const scanlines = Buffer.alloc((1 + Math.ceil(width / 8)) * height); // filter byte 0, all pixels 0
  const png = Buffer.concat([PNG_SIGNATURE, ihdr(width, height, 1, 0), pngChunk('IDAT', deflateSync(scanlines, { level: 9 })), pngChunk('IEND', Buffer.alloc(0))]);
  return new Uint8Array(png);
}

/** A valid 32×32 PNG carrying a zTXt chunk that inflates to `textBytes` bytes (metadata no decoder needs). */
export async function pngWithTextBomb(textBytes: number): Promise<Uint8Array> {
  const small = await sharp({ create: { width: 32, height: 32, channels: 3, background: '#406080' } }).png().toBuffer();
  const ztxt = pngChunk('zTXt', Buffer.concat([Buffer.from('Comment\0\0', 'latin1'), deflateSync(Buffer.alloc(textBytes, 0x41), { level: 9 })]));
  // After IHDR (8-byte signature + 25-byte chunk), before the pixel data.
  return new Uint8Array(Buffer.concat([small.subarray(0, 33), ztxt, small.subarray(33)]));
}

/** A real PNG of solid colour: width × height pixels in a file of a few hundred kilobytes (a legitimate, if flat, image). */
export async function flatPng(width: number, height: number, seed = 0): Promise<Uint8Array> {
  return new Uint8Array(await sharp({ create: { width, height, channels: 3, background: { r: seed % 256, g: 90, b: 160 } } }).png().toBuffer());
}

/** A real JPEG cut off after `keep` of its bytes. */
export async function truncatedJpeg(keep: number): Promise<Uint8Array> {
  const whole = await sharp({ create: { width: 256, height: 256, channels: 3, background: '#c08040' } }).jpeg().toBuffer();
  return new Uint8Array(whole.subarray(0, keep));
}

/** Bytes that open as one format and go on as another. */
export const polyglots = {
  /** GIF magic followed by JavaScript (a "GIFAR"-style file): the screen size it declares is ASCII. */
  gifScript: () => new Uint8Array(Buffer.from('GIF89a/*\x00\x00*/=1;alert(document.cookie);//')),
  /** A JPEG start-of-image marker followed by an HTML page. */
  jpegHtml: () => new Uint8Array(Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from('<html><script>alert(1)</script></html>')])),
  /** A PNG signature and header followed by a ZIP archive's local file header. */
  pngZip: () => new Uint8Array(Buffer.concat([PNG_SIGNATURE, ihdr(64, 64, 8, 2), Buffer.from('PK\x03\x04\x14\x00\x00\x00\x08\x00'), Buffer.alloc(64, 7)])),
  /** A PDF, sent as an image. */
  pdf: () => new Uint8Array(Buffer.from('%PDF-1.7\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n')),
};
