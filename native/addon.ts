// Loads the compiled addon, or explains once why the TypeScript fallback runs.
import { createRequire } from 'node:module';
import type { NativeAddon } from './types.ts';

/** Where the build puts the addon; CROSSMODAL_NATIVE_ADDON points elsewhere. */
export const ADDON_PATH = process.env.CROSSMODAL_NATIVE_ADDON ?? new URL('./build/Release/crossmodal_native.node', import.meta.url).pathname;

function load(): NativeAddon | null {
  if (process.env.CROSSMODAL_NATIVE === 'off') return null;
  try {
    return createRequire(import.meta.url)(ADDON_PATH) as NativeAddon;
  } catch (error) {
    process.emitWarning(
      `native scoring addon unavailable (${(error as Error).message.split('\n')[0]}); ` +
        'using the TypeScript fallback, which is correct but several times slower. Run `npm run build:native` to build it.',
      { code: 'CROSSMODAL_NATIVE_FALLBACK' },
    );
    return null;
  }
}

/** The addon, or null when it is not built, failed to load, or CROSSMODAL_NATIVE=off. */
export const addon: NativeAddon | null = load();
