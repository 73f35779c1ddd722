/**
 * JPEG files made by libjpeg-turbo's own `cjpeg` (Debian: libjpeg-turbo-progs), for the encodings sharp
 * cannot write: 4:2:2 and 4:4:0 sampling, restart markers, arithmetic coding, RGB colour space.
 * `cjpegAvailable()` is false (after a warning) when the tool is missing, except under CI=true, where
 * .ci/run installs it and its absence is an error.
 */
import { execFileSync, spawnSync } from 'node:child_process';

let available: boolean | undefined;

export function cjpegAvailable(): boolean {
  if (available !== undefined) return available;
  available = spawnSync('cjpeg', ['-version'], { stdio: 'ignore' }).status === 0;
  if (!available) {
    const message = 'cjpeg (apt install libjpeg-turbo-progs) is missing';
    if (process.env.CI === 'true') throw new Error(`${message}; with CI=true it is required`);
    console.warn(`skipping tests that need it: ${message}`);
  }
  return available;
}

/** Encodes interleaved RGB (or grey, with `channels: 1`) with cjpeg and the given options. */
export function cjpeg(pixels: Uint8Array, width: number, height: number, args: string[], channels: 1 | 3 = 3): Buffer {
  const header = Buffer.from(`${channels === 3 ? 'P6' : 'P5'}\n${width} ${height}\n255\n`, 'latin1');
  return execFileSync('cjpeg', args, { input: Buffer.concat([header, pixels]), maxBuffer: 1 << 28 });
}
