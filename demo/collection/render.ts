// A scene as a JPEG: SVG drawn by sharp (librsvg), seeded pixel noise, then
// JPEG at the scene's quality, so that no two images share exact pixels.
import sharp from 'sharp';
import { Random } from './random.ts';
import type { Background, Rgb, Scene, SceneObject } from './scene.ts';
import type { Shape } from './vocabulary.ts';

const css = ([r, g, b]: Rgb) => `rgb(${r},${g},${b})`;

function starPoints(points: number, outer: number, inner: number): string {
  return Array.from({ length: points * 2 }, (_, i) => {
    const r = i % 2 === 0 ? outer : inner;
    const a = (Math.PI * i) / points - Math.PI / 2;
    return `${(r * Math.cos(a)).toFixed(4)},${(r * Math.sin(a)).toFixed(4)}`;
  }).join(' ');
}

/** Crescent: the unit circle minus a circle of radius 0.85 centred at (0.5, 0). */
function crescentPath(): string {
  const d = 0.5;
  const rb = 0.85;
  const x = (d * d + 1 - rb * rb) / (2 * d);
  const y = Math.sqrt(1 - x * x);
  return `M${x.toFixed(4)},${(-y).toFixed(4)} A1,1 0 1 0 ${x.toFixed(4)},${y.toFixed(4)} A${rb},${rb} 0 1 1 ${x.toFixed(4)},${(-y).toFixed(4)} Z`;
}

/** Each shape drawn in the unit box [-1, 1]², filled with the current colour. */
const SHAPE_SVG: Record<Shape, string> = {
  circle: '<circle r="1"/>',
  square: '<rect x="-0.85" y="-0.85" width="1.7" height="1.7"/>',
  triangle: '<polygon points="0,-1 0.98,0.78 -0.98,0.78"/>',
  star: `<polygon points="${starPoints(5, 1.05, 0.45)}"/>`,
  heart: '<circle cx="-0.46" cy="-0.36" r="0.52"/><circle cx="0.46" cy="-0.36" r="0.52"/><polygon points="-0.95,-0.2 0.95,-0.2 0,0.95"/>',
  ring: '<path fill-rule="evenodd" d="M-1,0 a1,1 0 1,0 2,0 a1,1 0 1,0 -2,0 Z M-0.55,0 a0.55,0.55 0 1,0 1.1,0 a0.55,0.55 0 1,0 -1.1,0 Z"/>',
  cross: '<polygon points="-0.3,-1 0.3,-1 0.3,-0.3 1,-0.3 1,0.3 0.3,0.3 0.3,1 -0.3,1 -0.3,0.3 -1,0.3 -1,-0.3 -0.3,-0.3"/>',
  crescent: `<path d="${crescentPath()}"/>`,
};

function backgroundSvg(bg: Background, side: number): string {
  const rect = (fill: string) => `<rect width="${side}" height="${side}" fill="${fill}"/>`;
  const period = Math.max(4, bg.period * side);
  switch (bg.kind) {
    case 'plain':
      return rect(css(bg.base));
    case 'gradient':
      return (
        `<defs><linearGradient id="bg" gradientTransform="rotate(${bg.angleDegrees.toFixed(1)} 0.5 0.5)">` +
        `<stop offset="0" stop-color="${css(bg.base)}"/><stop offset="1" stop-color="${css(bg.accent)}"/></linearGradient></defs>` +
        rect('url(#bg)')
      );
    case 'stripes':
      return (
        `<defs><pattern id="bg" width="${period.toFixed(2)}" height="${side}" patternUnits="userSpaceOnUse" patternTransform="rotate(${bg.angleDegrees.toFixed(1)})">` +
        `<rect width="${(period / 2).toFixed(2)}" height="${side}" fill="${css(bg.accent)}"/></pattern></defs>` +
        rect(css(bg.base)) +
        rect('url(#bg)')
      );
    case 'dots':
      return (
        `<defs><pattern id="bg" width="${period.toFixed(2)}" height="${period.toFixed(2)}" patternUnits="userSpaceOnUse" patternTransform="rotate(${bg.angleDegrees.toFixed(1)})">` +
        `<circle cx="${(period / 2).toFixed(2)}" cy="${(period / 2).toFixed(2)}" r="${(period / 4).toFixed(2)}" fill="${css(bg.accent)}"/></pattern></defs>` +
        rect(css(bg.base)) +
        rect('url(#bg)')
      );
    case 'noise':
      return (
        `<defs><filter id="bg" x="0" y="0" width="100%" height="100%"><feTurbulence type="fractalNoise" baseFrequency="${(2 / period).toFixed(3)}" numOctaves="2" seed="${Math.round(bg.angleDegrees)}"/>` +
        `<feColorMatrix type="matrix" values="0 0 0 0 ${(bg.accent[0] / 255).toFixed(3)} 0 0 0 0 ${(bg.accent[1] / 255).toFixed(3)} 0 0 0 0 ${(bg.accent[2] / 255).toFixed(3)} 0 0 0 1.6 -0.3"/></filter></defs>` +
        rect(css(bg.base)) +
        `<rect width="${side}" height="${side}" filter="url(#bg)"/>`
      );
  }
}

function objectSvg(o: SceneObject, side: number): string {
  const transform = `translate(${(o.x * side).toFixed(2)} ${(o.y * side).toFixed(2)}) rotate(${o.rotationDegrees.toFixed(1)}) scale(${(o.radius * side).toFixed(2)})`;
  return `<g transform="${transform}" fill="${css(o.rgb)}">${SHAPE_SVG[o.shape]}</g>`;
}

export function sceneSvg(scene: Scene, side: number): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${side}" height="${side}" viewBox="0 0 ${side} ${side}">` +
    backgroundSvg(scene.background, side) +
    scene.objects.map((o) => objectSvg(o, side)).join('') +
    '</svg>'
  );
}

/** The scene as JPEG bytes, `side` pixels square. `noiseStream` names the noise's random stream. */
export async function renderScene(scene: Scene, side: number, noiseSeed: number, noiseStream: string): Promise<Buffer> {
  const { data, info } = await sharp(Buffer.from(sceneSvg(scene, side))).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const rng = new Random(noiseSeed, `noise/${noiseStream}`);
  for (let i = 0; i < data.length; i++) data[i] = Math.max(0, Math.min(255, Math.round(data[i]! + rng.normal() * scene.noise)));
  return sharp(data, { raw: { width: info.width, height: info.height, channels: 3 } }).jpeg({ quality: scene.jpegQuality }).toBuffer();
}
