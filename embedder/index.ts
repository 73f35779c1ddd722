// Library API of the embedder.
export { loadClip, type Clip, type LoadClipOptions } from './model/clip.ts';
export { locateModelFiles, ModelLayoutError, VARIANTS, type Layout, type Variant } from './model/layout.ts';
export { CudaUnavailableError, type DevicePreference, type Provider } from './runtime/execution-provider.ts';
