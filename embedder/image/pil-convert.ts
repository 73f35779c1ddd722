/** The colour conversions of PIL's `convert("RGB")` that libvips does differently. Output: interleaved RGB. */

/**
 * PIL's cmyk2rgb: R = 255-K - MULDIV255(C, 255-K), with no colour management. `cmyk` holds `channels`
 * bytes per pixel, C M Y K first, 0 meaning no ink: libvips has already undone the Adobe inversion, as
 * PIL's "CMYK;I" raw mode does.
 */
export function cmykToRgb(cmyk: Uint8Array, pixels: number, channels = 4): Uint8Array {
  const rgb = new Uint8Array(pixels * 3);
  for (let i = 0, p = 0, o = 0; i < pixels; i++, p += channels, o += 3) {
    const nk = 255 - (cmyk[p + 3] as number);
    for (let c = 0; c < 3; c++) {
      const t = (cmyk[p + c] as number) * nk + 128;
      const v = nk - (((t >> 8) + t) >> 8);
      rgb[o + c] = v < 0 ? 0 : v;
    }
  }
  return rgb;
}

/**
 * PIL opens a 16-bit greyscale image as mode "I" (or "I;16") and converts it to RGB by clipping each
 * value to 0..255, not by keeping the high byte: most such images come out nearly white, and so must ours.
 */
export function grey16ToRgb(grey: Uint16Array, pixels: number): Uint8Array {
  const rgb = new Uint8Array(pixels * 3);
  for (let i = 0, o = 0; i < pixels; i++, o += 3) {
    const g = grey[i] as number;
    const v = g > 255 ? 255 : g;
    rgb[o] = v;
    rgb[o + 1] = v;
    rgb[o + 2] = v;
  }
  return rgb;
}
