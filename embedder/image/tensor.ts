import { addon } from '../../native/addon.ts';
import type { PreprocessConfig } from './config.ts';
import type { CropPlacement } from './geometry.ts';
import { bytesOf, type RgbImage } from './resample.ts';

/**
 * transformers' rescale then normalize, as a lookup per channel and byte value (R, G, B: 256 each):
 * float32(float64(v) * factor), then (x - mean) / std with every operand and result in float32.
 */
function computeChannelTables(config: PreprocessConfig): Float32Array {
  const f = Math.fround;
  const tables = new Float32Array(3 * 256);
  for (let c = 0; c < 3; c++) {
    for (let v = 0; v < 256; v++) {
      let x = config.rescaleFactor === null ? v : f(v * config.rescaleFactor);
      if (config.normalize) {
        x = f(f(x - f(config.normalize.mean[c] as number)) / f(config.normalize.std[c] as number));
      }
      tables[c * 256 + v] = x;
    }
  }
  return tables;
}

const tablesByConfig = new WeakMap<PreprocessConfig, Float32Array>();

export function channelTables(config: PreprocessConfig): Float32Array {
  let tables = tablesByConfig.get(config);
  if (!tables) tablesByConfig.set(config, (tables = computeChannelTables(config)));
  return tables;
}

/**
 * The CHW float32 tensor (R plane, G plane, B plane) of the cropped pixels, placed per `placement`;
 * padding is pixel value 0 passed through the same rescale/normalise.
 */
export function toChwTensor(pixels: RgbImage, placement: CropPlacement, config: PreprocessConfig): Float32Array {
  const tables = channelTables(config);
  const { width, height } = placement.output;
  if (!addon) return toChwTensorScript(pixels, placement, tables);
  return addon.rgbToChw(bytesOf(pixels.data), pixels.width, pixels.height, tables, width, height, placement.left, placement.top);
}

/** toChwTensor in TypeScript: the fallback without the addon, and the reference its native twin is tested against. */
export function toChwTensorScript(pixels: RgbImage, placement: CropPlacement, tables: Float32Array): Float32Array {
  const data = bytesOf(pixels.data);
  const { width, height } = placement.output;
  const plane = width * height;
  const out = new Float32Array(3 * plane);
  const red = tables.subarray(0, 256);
  const green = tables.subarray(256, 512);
  const blue = tables.subarray(512);
  if (pixels.width !== width || pixels.height !== height) {
    out.fill(red[0] as number, 0, plane);
    out.fill(green[0] as number, plane, 2 * plane);
    out.fill(blue[0] as number, 2 * plane);
  }
  // One pass over the interleaved pixels, writing all three planes.
  let p = 0;
  for (let y = 0; y < pixels.height; y++) {
    const rowStart = (placement.top + y) * width + placement.left;
    for (let o = rowStart; o < rowStart + pixels.width; o++, p += 3) {
      out[o] = red[data[p] as number] as number;
      out[o + plane] = green[data[p + 1] as number] as number;
      out[o + 2 * plane] = blue[data[p + 2] as number] as number;
    }
  }
  return out;
}
