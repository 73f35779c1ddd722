// The image API in TypeScript, for when the addon is not built: the resampler and the tensor packing
// give the addon's bytes and floats exactly (they are also the references the native code is tested
// against).
//
// JPEG decoding has no TypeScript twin: here every file is declined, just as the native decoder
// declines the kinds it does not handle. Decoding a declined file is the caller's policy, not
// native/'s: the embedder decodes it with libvips through sharp (embedder/image/decode.ts).
import type { Imaging } from './image.ts';
import { bytesOf, resizeRgb } from './resample.ts';

const declined = async () => ({ declined: 'native addon not loaded' });

/** rgbToChw in TypeScript: the twin of native/src/image/chw_binding.cc. */
const rgbToChw: Imaging['rgbToChw'] = (pixels, placement, tables) => {
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
};

export const fallbackImaging: Imaging = {
  resizeRgbAsync: async (src, width, height, filter, region) => resizeRgb(src, width, height, filter, region),
  rgbToChw,
  decodeJpegRgbAsync: declined,
  decodeJpegResizedAsync: declined,
};
