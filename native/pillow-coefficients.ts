/**
 * Resampling filters and fixed-point coefficient tables exactly as Pillow's Resample.c computes them
 * (`precompute_coeffs` + `normalize_coeffs_8bpc`). Floating-point expressions keep Pillow's evaluation
 * order: a last-bit difference in a weight can flip the rounding to fixed point and change a pixel.
 * Computed here for both resamplers: the addon's takes them as arguments, and resample.ts is its twin.
 */

export type ResampleFilter = 'box' | 'bilinear' | 'hamming' | 'bicubic' | 'lanczos';

interface Filter {
  readonly support: number;
  readonly weight: (x: number) => number;
}

function sinc(x: number): number {
  if (x === 0.0) return 1.0;
  x = x * Math.PI;
  return Math.sin(x) / x;
}

const FILTERS: Record<ResampleFilter, Filter> = {
  box: { support: 0.5, weight: (x) => (x > -0.5 && x <= 0.5 ? 1.0 : 0.0) },
  bilinear: {
    support: 1.0,
    weight: (x) => {
      if (x < 0.0) x = -x;
      return x < 1.0 ? 1.0 - x : 0.0;
    },
  },
  hamming: {
    support: 1.0,
    weight: (x) => {
      if (x < 0.0) x = -x;
      if (x === 0.0) return 1.0;
      if (x >= 1.0) return 0.0;
      x = x * Math.PI;
      return (Math.sin(x) / x) * (0.54 + 0.46 * Math.cos(x));
    },
  },
  // Keys cubic convolution with a = -0.5.
  bicubic: {
    support: 2.0,
    weight: (x) => {
      const a = -0.5;
      if (x < 0.0) x = -x;
      if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
      if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
      return 0.0;
    },
  },
  lanczos: { support: 3.0, weight: (x) => (-3.0 <= x && x < 3.0 ? sinc(x) * sinc(x / 3) : 0.0) },
};

/** 32 bits minus 8 for the pixel value minus 2 for the overshoot of negative-lobed kernels. */
export const PRECISION_BITS = 32 - 8 - 2;
const ONE = 1 << PRECISION_BITS;

/**
 * The tables of one resampling axis. Per output pixel `i`: the input taps start at `first[i]`, there are
 * `count[i]` of them, and their fixed-point weights are `weights[i * taps .. i * taps + count[i])`
 * (the addon reads them as native/src/image/resample_rgb.h's ResampleAxis).
 */
export interface Coefficients {
  readonly taps: number;
  readonly first: Int32Array;
  readonly count: Int32Array;
  readonly weights: Int32Array;
}

export function pillowCoefficients(inSize: number, outSize: number, filterName: ResampleFilter): Coefficients {
  const filter = FILTERS[filterName];
  const scale = inSize / outSize;
  // Downscaling widens the kernel by the scale factor: this is Pillow's antialiasing.
  const filterScale = scale < 1.0 ? 1.0 : scale;
  const support = filter.support * filterScale;
  const taps = Math.ceil(support) * 2 + 1;
  const invFilterScale = 1.0 / filterScale;

  const first = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Int32Array(outSize * taps);
  const k = new Float64Array(taps);

  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    // C's (int) cast truncates toward zero; the clamps make the sign irrelevant.
    const xmin = Math.max(0, Math.trunc(center - support + 0.5));
    const xmax = Math.min(inSize, Math.trunc(center + support + 0.5)) - xmin;
    let sum = 0.0;
    for (let x = 0; x < xmax; x++) {
      const w = filter.weight((x + xmin - center + 0.5) * invFilterScale);
      k[x] = w;
      sum += w;
    }
    const base = xx * taps;
    for (let x = 0; x < xmax; x++) {
      const w = sum !== 0.0 ? (k[x] as number) / sum : (k[x] as number);
      weights[base + x] = w < 0 ? Math.trunc(-0.5 + w * ONE) : Math.trunc(0.5 + w * ONE);
    }
    first[xx] = xmin;
    count[xx] = xmax;
  }
  return { taps, first, count, weights };
}

/** Both axes of a resize from `from` to width x height; null for an axis whose size does not change. */
export function resizeCoefficients(
  from: { width: number; height: number },
  width: number,
  height: number,
  filter: ResampleFilter,
): { horizontal: Coefficients | null; vertical: Coefficients | null } {
  return {
    horizontal: width !== from.width ? pillowCoefficients(from.width, width, filter) : null,
    vertical: height !== from.height ? pillowCoefficients(from.height, height, filter) : null,
  };
}
