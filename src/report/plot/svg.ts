// Minimal SVG building: escaped text and attributes, numbers rounded to 0.01 px.

export const FONT_FAMILY = 'DejaVu Sans';

export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const num = (v: number) => String(Math.round(v * 100) / 100);

export function el(tag: string, attrs: Record<string, string | number | undefined>, body?: string): string {
  const a = Object.entries(attrs)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${typeof v === 'number' ? num(v) : esc(v as string)}"`)
    .join('');
  return body === undefined ? `<${tag}${a}/>` : `<${tag}${a}>${body}</${tag}>`;
}

export function text(
  x: number,
  y: number,
  s: string,
  o: { size?: number; anchor?: 'start' | 'middle' | 'end'; rotate?: number; weight?: string; fill?: string; baseline?: 'middle' } = {},
): string {
  return el(
    'text',
    {
      x,
      y,
      'font-size': o.size ?? 13,
      'text-anchor': o.anchor ?? 'start',
      'font-weight': o.weight,
      fill: o.fill ?? '#222',
      'dominant-baseline': o.baseline === 'middle' ? 'central' : undefined,
      transform: o.rotate ? `rotate(${o.rotate} ${num(x)} ${num(y)})` : undefined,
    },
    esc(s),
  );
}

export function path(points: [number, number][]): string {
  return points.map(([x, y], i) => `${i ? 'L' : 'M'}${num(x)},${num(y)}`).join('');
}

/** Rough rendered width of a string in DejaVu Sans (average advance ≈ 0.6 em). */
export function textWidth(s: string, size: number): number {
  return s.length * size * 0.6;
}

/** Okabe–Ito: distinguishable with the common colour-vision deficiencies. */
export const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#F0E442'];
