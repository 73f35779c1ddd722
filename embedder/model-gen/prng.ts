/**
 * Seeded pseudo-random numbers for the weights. Only integer arithmetic and
 * one correctly rounded division per value are used (no Math.log/sin), so the
 * values are bit-identical on every platform and Node version.
 */

/** 32-bit FNV-1a of a string's UTF-16 code units, mixed with the seed. */
function hashString(seed: number, text: string): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** splitmix32 step, used to spread one 32-bit seed over the generator's state. */
function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) >>> 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/** SFC32 (Chris Doty-Humphrey's small fast counting generator), 32-bit output. */
export class Sfc32 {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number, stream: string) {
    const mix = { s: hashString(seed >>> 0, stream) ^ Math.imul(seed >>> 0, 0x27d4eb2d) };
    this.a = splitmix32(mix);
    this.b = splitmix32(mix);
    this.c = splitmix32(mix);
    this.d = 1;
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }
}

/** Standard deviation of the sum of four independent uniform integers in [0, 65535]. */
const SUM4_STD = Math.sqrt((4 * (65536 * 65536 - 1)) / 12);
const SUM4_MEAN = 4 * 32767.5;

/**
 * Fills `out` with approximately normal values (Irwin–Hall sum of four 16-bit
 * uniforms, so |z| <= 3.47), mean 0 and standard deviation `std`.
 */
export function fillNormalish(rng: Sfc32, out: Float32Array, std: number): void {
  const scale = std / SUM4_STD;
  for (let i = 0; i < out.length; i++) {
    const x = rng.nextUint32();
    const y = rng.nextUint32();
    const sum = (x & 0xffff) + (x >>> 16) + (y & 0xffff) + (y >>> 16);
    out[i] = (sum - SUM4_MEAN) * scale;
  }
}
