// Rotated images for the DUN protocol's robustness check (rotated MNIST): each uint8 NHWC image turned
// counter-clockwise about its centre by bilinear resampling, pixels that come from outside the image set to
// 0 (the background of MNIST-like data), results rounded back to uint8 as a rotated image file would be.
import type { Split } from './types.ts';

/** cos/sin with the exact values at multiples of 90°, so quarter turns move whole pixels and stay exact. */
function exactTrig(degrees: number): [number, number] {
  const quarter = degrees / 90;
  if (Number.isInteger(quarter)) {
    const table: [number, number][] = [[1, 0], [0, 1], [-1, 0], [0, -1]];
    return table[((quarter % 4) + 4) % 4];
  }
  const t = (degrees * Math.PI) / 180;
  return [Math.cos(t), Math.sin(t)];
}

/** Images of `split` (h × w × c each) rotated by `degrees` counter-clockwise; labels and order unchanged. */
export function rotateSplit(split: Split, shape: number[], degrees: number): Split {
  if (!(split.x instanceof Uint8Array) || shape.length !== 3) throw new Error('rotation needs images (uint8, h × w × c)');
  const [h, w, c] = shape;
  const [cos, sin] = exactTrig(degrees);
  const cy = (h - 1) / 2;
  const cx = (w - 1) / 2;
  const per = h * w * c;
  const src = split.x;
  const out = new Uint8Array(src.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      // the source of output pixel (y, x): rotate it back by −θ (y grows downwards, so the signs of sin flip)
      const dx = x - cx;
      const dy = y - cy;
      const sx = cx + cos * dx - sin * dy;
      const sy = cy + sin * dx + cos * dy;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      const taps: [number, number, number][] = [
        [y0, x0, (1 - fy) * (1 - fx)],
        [y0, x0 + 1, (1 - fy) * fx],
        [y0 + 1, x0, fy * (1 - fx)],
        [y0 + 1, x0 + 1, fy * fx],
      ];
      for (let ch = 0; ch < c; ch++) {
        const o = (y * w + x) * c + ch;
        for (let i = 0; i < split.n; i++) {
          let v = 0;
          for (const [ty, tx, wt] of taps) {
            if (wt === 0 || ty < 0 || ty >= h || tx < 0 || tx >= w) continue;
            v += wt * src[i * per + (ty * w + tx) * c + ch];
          }
          out[i * per + o] = Math.round(v);
        }
      }
    }
  }
  return { x: out, y: split.y, n: split.n };
}
