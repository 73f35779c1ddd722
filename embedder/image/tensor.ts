import type { PreprocessConfig } from './config.ts';
import type { CropPlacement } from './geometry.ts';
import { bytesOf, type RgbImage } from './resample.ts';

/**
 * transformers' rescale then normalize, as a lookup per channel and byte value:
 * float32(float64(v) * factor), then (x - mean) / std with every operand and result in float32.
 */
function computeChannelTables(config: PreprocessConfig): Float32Array[] {
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

const tablesByConfig = new WeakMap<PreprocessConfig, Float32Array[]>();

function channelTables(config: PreprocessConfig): Float32Array[] {
  let tables = tablesByConfig.get(config);
  if (!tables) tablesByConfig.set(config, (tables = computeChannelTables(config)));
  return tables;
}

/**
 * The CHW float32 tensor (R plane, G plane, B plane) of the cropped pixels, placed per `placement`;
 * padding is pixel value 0 passed through the same rescale/normalise.
 */
export function toChwTensor(pixels: RgbImage, placement: CropPlacement, config: PreprocessConfig): Float32Array {
  const { width, height } = placement.output;
  const plane = width * height;
  const out = new Float32Array(3 * plane);
  const [red, green, blue] = channelTables(config) as [Float32Array, Float32Array, Float32Array];
  if (pixels.width !== width || pixels.height !== height) {
    out.fill(red[0] as number, 0, plane);
    out.fill(green[0] as number, plane, 2 * plane);
    out.fill(blue[0] as number, 2 * plane);
  }
  // One array type for the hot loop, whichever kind of byte array the pixels came in.
  const data = bytesOf(pixels.data);
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
