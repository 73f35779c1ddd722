// Captions from templates with synonyms. The first caption of a scene names
// every object's colour and shape; later ones (training variety) may leave a
// colour or a shape out, as people do.
import type { Random } from './random.ts';
import type { Scene, SceneObject } from './scene.ts';
import { BACKGROUND_WORDS, COLOURS, label, POSITION_WORDS, SHAPES, SIZE_WORDS } from './vocabulary.ts';

const withArticle = (phrase: string) => `${/^[aeiou]/.test(phrase) ? 'an' : 'a'} ${phrase}`;

/** The zero-shot prompt for a canonical label: "a red circle", "an orange star". */
export const labelPrompt = (canonicalLabel: string) => withArticle(canonicalLabel);

/** The canonical labels of a scene: "colour shape" per object, comma-separated. */
export function sceneLabels(scene: Scene): string {
  return scene.objects.map((o) => label(o.colour, o.shape)).join(', ');
}

interface Words {
  colour: string;
  shape: string;
  size: string;
  position: string;
}

function wordsFor(rng: Random, o: SceneObject): Words {
  // The canonical word half the time, so the plain names are the best learnt.
  const colour = rng.chance(0.5) ? o.colour : rng.pick(COLOURS[o.colour].words);
  const shape = rng.chance(0.5) ? o.shape : rng.pick(SHAPES[o.shape]);
  return { colour, shape, size: rng.pick(SIZE_WORDS[o.size]), position: rng.pick(POSITION_WORDS[o.position]) };
}

function singleCaption(rng: Random, scene: Scene, o: SceneObject, partial: boolean): string {
  const w = wordsFor(rng, o);
  const background = rng.pick(BACKGROUND_WORDS[scene.background.kind]);
  const tone = scene.background.tone;
  if (partial)
    return rng.pick([
      () => withArticle(w.shape),
      () => withArticle(`${w.size} ${w.shape}`),
      () => `something ${w.colour}`,
      () => withArticle(`${w.colour} shape`),
      () => withArticle(`${w.colour} object`),
    ])();
  const thing = `${w.colour} ${w.shape}`;
  return rng.pick([
    () => withArticle(thing),
    () => withArticle(thing),
    () => withArticle(`${w.size} ${thing}`),
    () => `${withArticle(thing)} ${w.position}`,
    () => `${withArticle(`${w.size} ${thing}`)} ${w.position}`,
    () => `${withArticle(thing)} on ${withArticle(`${background} background`)}`,
    () => `${withArticle(thing)} on ${withArticle(`${tone} background`)}`,
    () => `a picture of ${withArticle(thing)}`,
    () => `an image of ${withArticle(`${w.size} ${thing}`)}`,
    () => thing,
    () => `one ${thing}`,
  ])();
}

function pairCaption(rng: Random, scene: Scene, first: SceneObject, second: SceneObject, partial: boolean): string {
  const a = wordsFor(rng, first);
  const b = wordsFor(rng, second);
  const one = withArticle(`${a.colour} ${a.shape}`);
  const two = withArticle(`${b.colour} ${b.shape}`);
  if (partial)
    return rng.pick([
      () => `${withArticle(a.shape)} and ${withArticle(b.shape)}`,
      () => `${one} and another shape`,
      () => `${two} and another shape`,
      () => `something ${a.colour} and something ${b.colour}`,
    ])();
  const horizontal = scene.arrangement === 'horizontal';
  return rng.pick([
    () => `${one} and ${two}`,
    () => `${two} and ${one}`,
    () => `${one} next to ${two}`,
    () => `two shapes: ${one} and ${two}`,
    () => (horizontal ? `${one} to the left of ${two}` : `${one} above ${two}`),
    () => (horizontal ? `${two} to the right of ${one}` : `${two} below ${one}`),
    () => `${one} ${a.position} and ${two} ${b.position}`,
  ])();
}

/** `count` captions; the first names every object's colour and shape. */
export function sceneCaptions(rng: Random, scene: Scene, count: number): string[] {
  const [first, second] = scene.objects;
  if (!first) throw new Error('a scene has at least one object');
  return Array.from({ length: count }, (_, i) => {
    const partial = i > 0 && rng.chance(0.15);
    return second ? pairCaption(rng, scene, first, second, partial) : singleCaption(rng, scene, first, partial);
  });
}
