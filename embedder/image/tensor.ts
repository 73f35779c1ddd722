import { rgbToChw, type RgbImage } from '../../native/index.ts';
import type { PreprocessConfig } from './config.ts';
import type { CropPlacement } from './geometry.ts';

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
  return rgbToChw(pixels, placement, channelTables(config));
}
