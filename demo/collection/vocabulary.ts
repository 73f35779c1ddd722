// What a scene can hold, and the words captions use for it. The first word of
// each list is the canonical name, the one `labels` uses.

export const COLOURS = {
  red: { rgb: [214, 40, 40], words: ['red', 'crimson', 'scarlet'] },
  orange: { rgb: [247, 127, 0], words: ['orange', 'tangerine'] },
  yellow: { rgb: [250, 214, 30], words: ['yellow', 'golden'] },
  green: { rgb: [46, 160, 67], words: ['green', 'emerald'] },
  blue: { rgb: [30, 90, 220], words: ['blue', 'azure'] },
  purple: { rgb: [126, 52, 170], words: ['purple', 'violet'] },
  pink: { rgb: [245, 120, 190], words: ['pink'] },
  brown: { rgb: [120, 72, 36], words: ['brown', 'chocolate'] },
  black: { rgb: [18, 18, 18], words: ['black'] },
  white: { rgb: [248, 248, 248], words: ['white'] },
} as const satisfies Record<string, { rgb: readonly [number, number, number]; words: readonly string[] }>;
export type Colour = keyof typeof COLOURS;
export const COLOUR_NAMES = Object.keys(COLOURS) as Colour[];

export const SHAPES = {
  circle: ['circle', 'disc', 'dot'],
  square: ['square'],
  triangle: ['triangle'],
  star: ['star'],
  heart: ['heart'],
  ring: ['ring', 'hoop'],
  cross: ['cross', 'plus sign'],
  crescent: ['crescent', 'moon'],
} as const satisfies Record<string, readonly string[]>;
export type Shape = keyof typeof SHAPES;
export const SHAPE_NAMES = Object.keys(SHAPES) as Shape[];

/** Colour-shape pairs that no training or validation scene shows together (the held-out split shows them). */
export const HELD_OUT_COMBOS: readonly (readonly [Colour, Shape])[] = [
  ['green', 'star'],
  ['purple', 'heart'],
  ['orange', 'ring'],
  ['blue', 'cross'],
  ['yellow', 'triangle'],
  ['pink', 'crescent'],
];

export const label = (colour: Colour, shape: Shape): string => `${colour} ${shape}`;

export const isHeldOut = (colour: Colour, shape: Shape): boolean => HELD_OUT_COMBOS.some(([c, s]) => c === colour && s === shape);

/** Every canonical "colour shape" label, the label set zero-shot classification chooses from. */
export const ALL_LABELS: readonly string[] = COLOUR_NAMES.flatMap((c) => SHAPE_NAMES.map((s) => label(c, s)));

export const SIZE_WORDS = {
  small: ['small', 'little', 'tiny'],
  large: ['big', 'large'],
} as const;
export type Size = keyof typeof SIZE_WORDS;

/** Where a lone object sits (for two objects, which side each is on). */
export const POSITION_WORDS = {
  centre: ['in the middle', 'in the center', 'in the centre'],
  left: ['on the left'],
  right: ['on the right'],
  top: ['at the top'],
  bottom: ['at the bottom'],
} as const;
export type Position = keyof typeof POSITION_WORDS;

export type BackgroundKind = 'plain' | 'gradient' | 'stripes' | 'dots' | 'noise';
export const BACKGROUND_WORDS: Record<BackgroundKind, readonly string[]> = {
  plain: ['plain'],
  gradient: ['gradient', 'shaded'],
  stripes: ['striped'],
  dots: ['dotted', 'spotted'],
  noise: ['textured', 'grainy'],
};
