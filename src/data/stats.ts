// Per-channel mean and std (in [0,1] units) of uint8 NHWC images, through a 256-bin histogram per
// channel: exact, and one pass with no float accumulation over millions of pixels.
export function channelStats(x: Uint8Array, channels: number): { mean: number[]; std: number[] } {
  const hist = new Float64Array(256 * channels);
  if (channels === 1) for (let i = 0; i < x.length; i++) hist[x[i]]++;
  else for (let i = 0; i < x.length; i++) hist[(i % channels) * 256 + x[i]]++;
  const mean: number[] = [];
  const std: number[] = [];
  for (let c = 0; c < channels; c++) {
    let n = 0;
    let s = 0;
    let s2 = 0;
    for (let v = 0; v < 256; v++) {
      const h = hist[c * 256 + v];
      n += h;
      s += h * (v / 255);
      s2 += h * (v / 255) ** 2;
    }
    const m = n > 0 ? s / n : 0;
    mean.push(m);
    std.push(Math.sqrt(Math.max(0, s2 / Math.max(n, 1) - m * m)) || 1); // constant images: avoid dividing by 0
  }
  return { mean, std };
}
