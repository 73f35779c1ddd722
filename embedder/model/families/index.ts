import type { FamilyId } from '../family.ts';
import { clipFamily } from './clip.ts';
import type { FamilyModule } from './family-module.ts';
import { multilingualClipFamily } from './multilingual-clip.ts';
import { siglip2Family, siglipFamily } from './siglip.ts';

export const FAMILY_MODULES: Readonly<Record<FamilyId, FamilyModule>> = {
  clip: clipFamily,
  siglip: siglipFamily,
  siglip2: siglip2Family,
  'multilingual-clip': multilingualClipFamily,
};
export type { FamilyModule, PooledRowRule } from './family-module.ts';
