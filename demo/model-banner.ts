// What `npm start` says when it serves the demo model because no model was named.
import { DEMO_MODEL_DIR } from './train/settings.ts';

export { DEMO_MODEL_DIR };
/** The name the embedder serves it under (its manifest's name), rather than its directory's, "model". */
export const DEMO_MODEL_NAME = 'crossmodal-demo-clip';
export const DEMO_MODEL_SETTING = `${DEMO_MODEL_NAME}=${DEMO_MODEL_DIR}`;

export const DEMO_MODEL_BANNER =
  '\x1b[1;33mNo MODEL_DIR or MODEL given: serving the demo model (demo/model), a small CLIP this project trained on\n' +
  'synthetic images of coloured shapes (demo/README.md). It is good for trying the system, not for photos:\n' +
  "  npm run demo    renders 300 such images and indexes them; then search for 'a red circle' or 'a blue star above a green square'.\n" +
  'For real search, fetch a real CLIP (and start with an empty .data/, since its embeddings have another size):\n' +
  '  npm run model:fetch -- Xenova/clip-vit-base-patch32 && MODEL_DIR=models/Xenova__clip-vit-base-patch32 npm start\x1b[0m';

/** The demo collection's metadata fields (demo/collection/generate.ts) that the search page offers as filters. */
export const DEMO_FILTERABLE_FIELDS = 'background,objects:number';
