// The data the shipped demo model was trained and measured on: one place for
// prepare.ts (which writes it), the evaluation and the end-to-end test.
import type { Split } from '../collection/scene.ts';

export const DATA_SEED = 1;
export const SPLIT_COUNTS = { train: 8000, validation: 800, heldout: 400 } as const satisfies Partial<Record<Split, number>>;
/** Paraphrases per training image (the trainer picks one each time the image comes round). */
export const TRAIN_CAPTIONS = 8;
/** `npm run demo` and the end-to-end test draw from other seeds than training. */
export const DEMO_SEED = 2;
export const TEST_SEED = 3;

export const DEMO_MODEL_DIR = 'demo/model';
