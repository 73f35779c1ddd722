// A scene: one or two coloured shapes on a background, with everything the
// renderer needs (jittered colours, geometry, noise and JPEG quality), drawn
// from a seeded stream so the same (seed, split, index) is the same image.
import { Random } from './random.ts';
import { COLOUR_NAMES, COLOURS, HELD_OUT_COMBOS, isHeldOut, SHAPE_NAMES, type BackgroundKind, type Colour, type Position, type Shape, type Size } from './vocabulary.ts';

export type Rgb = readonly [number, number, number];

export interface SceneObject {
  colour: Colour;
  shape: Shape;
  size: Size;
  /** Where the object is: for a lone object its place in the frame; for a pair, its side. */
  position: Position;
  /** Centre and radius as fractions of the image side. */
  x: number;
  y: number;
  radius: number;
  rotationDegrees: number;
  rgb: Rgb;
}

export interface Background {
  kind: BackgroundKind;
  tone: 'light' | 'dark';
  base: Rgb;
  accent: Rgb;
  angleDegrees: number;
  /** Stripe period or dot spacing, as a fraction of the side. */
  period: number;
}

export interface Scene {
  objects: SceneObject[];
  /** How a pair is laid out: side by side or one above the other. */
  arrangement: 'single' | 'horizontal' | 'vertical';
  background: Background;
  /** Standard deviation of the pixel noise, in 8-bit levels. */
  noise: number;
  jpegQuality: number;
}

/**
 * train, validation and demo scenes never hold a held-out colour-shape pair;
 * every heldout scene holds one (its first object), so that split measures
 * what the model does with combinations it never saw.
 */
export type Split = 'train' | 'validation' | 'heldout' | 'demo';
export const SPLITS: readonly Split[] = ['train', 'validation', 'heldout', 'demo'];

const clampByte = (v: number) => Math.max(0, Math.min(255, Math.round(v)));

function jitterColour(rng: Random, base: Rgb): Rgb {
  const scale = rng.uniform(0.88, 1.08);
  return base.map((c) => clampByte(c * scale + rng.normal() * 8)) as unknown as Rgb;
}

function distance(a: Rgb, b: Rgb): number {
  return Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
}

/** A low-saturation tone, so that backgrounds do not read as one of the object colours. */
function backgroundTone(rng: Random, tone: 'light' | 'dark'): Rgb {
  const lightness = tone === 'light' ? rng.uniform(175, 240) : rng.uniform(25, 95);
  const strength = rng.uniform(2, 8);
  const tint = [rng.normal(), rng.normal(), rng.normal()].map((t) => t * strength);
  return tint.map((t) => clampByte(lightness + t)) as unknown as Rgb;
}

function sampleBackground(rng: Random, objects: readonly SceneObject[]): Background {
  const kinds: BackgroundKind[] = ['plain', 'plain', 'gradient', 'gradient', 'stripes', 'dots', 'noise'];
  for (let attempt = 0; ; attempt++) {
    const tone = rng.chance(0.5) ? 'light' : 'dark';
    const base = backgroundTone(rng, tone);
    const shift = rng.uniform(14, 34) * (tone === 'light' ? -1 : 1);
    const accent = base.map((c) => clampByte(c + shift)) as unknown as Rgb;
    const farEnough = objects.every((o) => Math.min(distance(o.rgb, base), distance(o.rgb, accent)) > 95);
    if (farEnough || attempt >= 60)
      return { kind: rng.pick(kinds), tone, base, accent, angleDegrees: rng.uniform(0, 180), period: rng.uniform(0.06, 0.12) };
  }
}

function sampleCombo(rng: Random, split: Split, taken: readonly SceneObject[], first: boolean): [Colour, Shape] {
  if (split === 'heldout' && first) return rng.pick(HELD_OUT_COMBOS) as [Colour, Shape];
  for (;;) {
    const colour = rng.pick(COLOUR_NAMES);
    const shape = rng.pick(SHAPE_NAMES);
    if (isHeldOut(colour, shape)) continue;
    if (taken.some((o) => o.colour === colour && o.shape === shape)) continue;
    return [colour, shape];
  }
}

const LONE_PLACES: Record<Position, readonly [number, number]> = {
  centre: [0.5, 0.5],
  left: [0.28, 0.5],
  right: [0.72, 0.5],
  top: [0.5, 0.28],
  bottom: [0.5, 0.72],
};

function makeObject(rng: Random, combo: [Colour, Shape], place: { position: Position; x: number; y: number; radius: number }): SceneObject {
  const [colour, shape] = combo;
  return {
    colour,
    shape,
    size: place.radius >= 0.2 ? 'large' : 'small',
    ...place,
    rotationDegrees: rng.uniform(-18, 18),
    rgb: jitterColour(rng, COLOURS[colour].rgb),
  };
}

export function sampleScene(seed: number, split: Split, index: number): Scene {
  const rng = new Random(seed, `${split}/${index}`);
  const objects: SceneObject[] = [];
  let arrangement: Scene['arrangement'];
  if (rng.chance(0.55)) {
    arrangement = 'single';
    const large = rng.chance(0.5);
    const position: Position = large ? 'centre' : rng.pick(['centre', 'left', 'right', 'top', 'bottom'] as const);
    const [x, y] = LONE_PLACES[position];
    const radius = large ? rng.uniform(0.26, 0.33) : rng.uniform(0.12, 0.16);
    objects.push(makeObject(rng, sampleCombo(rng, split, objects, true), { position, x: x + rng.uniform(-0.03, 0.03), y: y + rng.uniform(-0.03, 0.03), radius }));
  } else {
    arrangement = rng.chance(0.6) ? 'horizontal' : 'vertical';
    const sides: [Position, Position] = arrangement === 'horizontal' ? ['left', 'right'] : ['top', 'bottom'];
    for (const [i, position] of sides.entries()) {
      const along = (i === 0 ? 0.27 : 0.73) + rng.uniform(-0.03, 0.03);
      const across = 0.5 + rng.uniform(-0.08, 0.08);
      const [x, y] = arrangement === 'horizontal' ? [along, across] : [across, along];
      objects.push(makeObject(rng, sampleCombo(rng, split, objects, i === 0), { position, x, y, radius: rng.uniform(0.13, 0.2) }));
    }
  }
  return {
    objects,
    arrangement,
    background: sampleBackground(rng, objects),
    noise: rng.uniform(1.5, 6),
    jpegQuality: rng.int(50, 92),
  };
}
