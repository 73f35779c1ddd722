/**
 * The `jpeg` target's seed corpus, generated (not stored): small files of every kind the decoder
 * handles or must decline, from sharp (libjpeg-turbo and mozjpeg inside libvips) and from
 * libjpeg-turbo's own `cjpeg` (restart intervals, greyscale, 4:2:0/4:2:2/4:4:4 and odd samplings,
 * progressive scan scripts, 16-bit quantisation, arithmetic coding, RGB). Small images keep each
 * execution short, so the fuzzer spends its time on structure, not on pixels.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { cjpeg, cjpegAvailable } from '../../test/support/cjpeg.ts';
import { photoRgb } from '../../test/support/photo.ts';

/** cjpeg option sets, named for the file they write. */
const CJPEG_VARIANTS: Record<string, string[]> = {
  'sample-1x1': ['-sample', '1x1'],
  'sample-2x1': ['-sample', '2x1'],
  'sample-2x2': ['-sample', '2x2'],
  'sample-1x2': ['-sample', '1x2'],
  'sample-all-2x1': ['-sample', '2x1,2x1,2x1'],
  'sample-4x2': ['-sample', '4x2'],
  'restart-row': ['-restart', '1'],
  'restart-1-mcu': ['-restart', '1B'],
  'restart-3-mcu-2x1': ['-restart', '3B', '-sample', '2x1'],
  optimize: ['-optimize'],
  'quality-5-16bit-tables': ['-quality', '5'],
  'quality-100': ['-quality', '100'],
  progressive: ['-progressive'],
  'progressive-1x1': ['-progressive', '-sample', '1x1'],
  'progressive-2x1-restart': ['-progressive', '-sample', '2x1', '-restart', '2B'],
  'progressive-restart-row': ['-progressive', '-restart', '1'],
  arithmetic: ['-arithmetic'],
  'arithmetic-progressive': ['-arithmetic', '-progressive'],
  rgb: ['-rgb'],
};

/** Progressive scan scripts (cjpeg -scans), from the complete to the unfinished. */
const SCAN_SCRIPTS: Record<string, string> = {
  'spectral-only': '0,1,2: 0-0, 0, 0;\n0: 1-63, 0, 0;\n1: 1-63, 0, 0;\n2: 1-63, 0, 0;\n',
  'spectral-bands': '0,1,2: 0-0, 0, 0;\n0: 1-2, 0, 0;\n0: 3-9, 0, 0;\n0: 10-63, 0, 0;\n1: 1-63, 0, 0;\n2: 1-63, 0, 0;\n',
  'dc-per-component': '0: 0-0, 0, 0;\n1: 0-0, 0, 0;\n2: 0-0, 0, 0;\n0: 1-63, 0, 0;\n1: 1-63, 0, 0;\n2: 1-63, 0, 0;\n',
  'successive-deep':
    '0,1,2: 0-0, 0, 2;\n0: 1-63, 0, 3;\n1: 1-63, 0, 2;\n2: 1-63, 0, 2;\n0,1,2: 0-0, 2, 1;\n0: 1-63, 3, 2;\n' +
    '0: 1-63, 2, 1;\n1: 1-63, 2, 1;\n2: 1-63, 2, 1;\n0,1,2: 0-0, 1, 0;\n0: 1-63, 1, 0;\n1: 1-63, 1, 0;\n2: 1-63, 1, 0;\n',
  unfinished: '0,1,2: 0-0, 0, 1;\n0: 1-63, 0, 1;\n1: 1-63, 0, 1;\n2: 1-63, 0, 1;\n',
  'high-frequencies-never-sent': '0,1,2: 0-0, 0, 0;\n0: 1-9, 0, 0;\n1: 1-9, 0, 0;\n2: 1-9, 0, 0;\n',
};

/** Writes the seed files into `dir`; returns how many. */
export async function writeJpegSeeds(dir: string): Promise<number> {
  mkdirSync(dir, { recursive: true });
  let count = 0;
  const write = (name: string, bytes: Uint8Array) => {
    writeFileSync(join(dir, `${name}.jpg`), bytes);
    count++;
  };

  for (const [width, height] of [[16, 16], [17, 31], [48, 33]] as const) {
    const image = () => sharp(photoRgb(width, height, width), { raw: { width, height, channels: 3 } });
    for (const chromaSubsampling of ['4:2:0', '4:4:4']) {
      for (const progressive of [false, true]) {
        write(`sharp-${width}x${height}-${chromaSubsampling.replaceAll(':', '')}${progressive ? '-progressive' : ''}`,
          await image().jpeg({ quality: 60, chromaSubsampling, progressive }).toBuffer());
      }
    }
    write(`sharp-${width}x${height}-grey`, await image().greyscale().jpeg({ quality: 60 }).toBuffer());
    write(`sharp-${width}x${height}-mozjpeg`, await image().jpeg({ mozjpeg: true, quality: 60 }).toBuffer());
  }
  write('sharp-8x8-too-small', await sharp(photoRgb(8, 8, 1), { raw: { width: 8, height: 8, channels: 3 } }).jpeg().toBuffer());

  if (!cjpegAvailable()) return count;
  const [width, height] = [35, 21];
  const rgb = photoRgb(width, height, 3);
  const grey = Buffer.alloc(width * height);
  for (let i = 0; i < grey.length; i++) grey[i] = rgb[i * 3]!;
  for (const [name, args] of Object.entries(CJPEG_VARIANTS)) write(`cjpeg-${name}`, cjpeg(rgb, width, height, ['-quality', '60', ...args]));
  write('cjpeg-grey', cjpeg(grey, width, height, ['-quality', '60'], 1));
  write('cjpeg-grey-restart', cjpeg(grey, width, height, ['-restart', '2B'], 1));
  write('cjpeg-grey-progressive-restart', cjpeg(grey, width, height, ['-progressive', '-restart', '1'], 1));
  const scratch = mkdtempSync(join(tmpdir(), 'fuzz-scans-'));
  try {
    for (const [name, script] of Object.entries(SCAN_SCRIPTS)) {
      const file = join(scratch, `${name}.txt`);
      writeFileSync(file, script);
      write(`cjpeg-scans-${name}`, cjpeg(rgb, width, height, ['-quality', '60', '-scans', file]));
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return count;
}
