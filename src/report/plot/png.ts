// SVG → PNG with resvg (a prebuilt binary inside the npm package) and the DejaVu Sans TTF shipped by the
// npm package `dejavu-fonts-ttf`: no system fonts are needed, so text renders the same on a fresh machine.
import { createRequire } from 'node:module';
import { Resvg } from '@resvg/resvg-js';
import { FONT_FAMILY } from './svg.ts';

const require = createRequire(import.meta.url);
let fontFiles: string[] | null = null;

function fonts(): string[] {
  fontFiles ??= ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf'].map((f) => require.resolve(`dejavu-fonts-ttf/ttf/${f}`));
  return fontFiles;
}

/** Rasterise at `scale` × the SVG's own size (2 → crisp on high-density screens and in print). */
export function renderSvg(svg: string, scale = 2) {
  return new Resvg(svg, {
    font: { fontFiles: fonts(), loadSystemFonts: false, defaultFontFamily: FONT_FAMILY },
    fitTo: { mode: 'zoom', value: scale },
    background: 'white',
  }).render();
}

export function svgToPng(svg: string, scale = 2): Uint8Array {
  return renderSvg(svg, scale).asPng();
}
