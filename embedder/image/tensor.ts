import type { PreprocessConfig } from './config.ts';
import type { CropPlacement } from './geometry.ts';
import type { RgbImage } from './resample.ts';

/**
 * transformers' rescale then normalize, as a lookup per channel and byte value:
 * float32(float64(v) * factor), then (x - mean) / std with every operand and result in float32.
 */
function channelTables(config: PreprocessConfig): Float32Array[] {
  const f = Math.fround;
  return [0, 1, 2].map((c) => {
    const table = new Float32Array(256);
    for (let v = 0; v < 256; v++) {
      let x = config.rescaleFactor === null ? v : f(v * config.rescaleFactor);
      if (config.normalize) {
        x = f(f(x - f(config.normalize.mean[c] as number)) / f(config.normalize.std[c] as number));
      }
      table[v] = x;
    }
    return table;
  });
}

/**
 * The CHW float32 tensor (R plane, G plane, B plane) of the cropped pixels, placed per `placement`;
 * padding is pixel value 0 passed through the same rescale/normalise.
 */
export function toChwTensor(pixels: RgbImage, placement: CropPlacement, config: PreprocessConfig): Float32Array {
  const { width, height } = placement.output;
  const plane = width * height;
  const out = new Float32Array(3 * plane);
  const tables = channelTables(config);
  const padded = pixels.width !== width || pixels.height !== height;
  for (let c = 0; c < 3; c++) {
    const table = tables[c] as Float32Array;
    const base = c * plane;
    if (padded) out.fill(table[0] as number, base, base + plane);
    for (let y = 0; y < pixels.height; y++) {
      let o = base + (placement.top + y) * width + placement.left;
      let p = y * pixels.width * 3 + c;
      for (let x = 0; x < pixels.width; x++, p += 3) out[o++] = table[pixels.data[p] as number] as number;
    }
  }
  return out;
}
